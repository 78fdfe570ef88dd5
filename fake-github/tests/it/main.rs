//! fake-github's integration tests, one binary organised by topic.
#![allow(clippy::unwrap_used)]

mod support;

mod churn;
mod compare;
mod determinism;
mod faults;
mod filters;
mod golden;
mod graphql;
mod http;
mod mutate;
mod openapi;
mod paging;
mod reviews;
mod socket;
mod truth;
