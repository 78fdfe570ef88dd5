//! What every Singer program does around its work: logs go to stderr (stdout carries messages
//! only), and a failure is one line on stderr with exit code 1.

use std::error::Error;
use std::process::ExitCode;

/// Logs to stderr at the level `TAPLINE_LOG` names (default `info`), coloured on a terminal.
pub fn init_logging() {
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TAPLINE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
}

/// Prints `name: error: …` as one line on stderr and returns exit code 1. Causes in `error`'s
/// chain that `skip` names, or whose text the line already holds, are left out.
pub fn fail(
    name: &str,
    error: &(dyn Error + 'static),
    skip: &dyn Fn(&(dyn Error + 'static)) -> bool,
) -> ExitCode {
    eprintln!("{name}: error: {}", one_line(error, skip));
    ExitCode::FAILURE
}

/// An error and its causes on one line, without the repeats nested errors bring.
pub fn one_line(
    error: &(dyn Error + 'static),
    skip: &dyn Fn(&(dyn Error + 'static)) -> bool,
) -> String {
    let mut text = String::new();
    let mut cause = Some(error);
    while let Some(e) = cause {
        cause = e.source();
        if skip(e) {
            continue;
        }
        let line = e.to_string();
        if text.contains(&line) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&line);
    }
    text.replace(['\r', '\n'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer: {0}")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner\nproblem")]
    struct Inner;

    #[test]
    fn causes_already_shown_are_left_out() {
        let e = Outer(Inner);
        assert_eq!(one_line(&e, &|_| false), "outer: inner problem");
        assert_eq!(one_line(&Inner, &|_| false), "inner problem");
        assert_eq!(one_line(&e, &|c| c.is::<Outer>()), "inner problem");
    }
}
