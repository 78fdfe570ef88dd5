//! How requests authenticate. Every value is a template over the settings; a secret it reads is
//! never printed, and an API key in a query parameter is masked in every URL the engine prints.

use serde::Deserialize;

use super::template::Template;

/// The authentication of every request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, tag = "kind", rename_all = "snake_case")]
pub enum AuthDef {
    /// No credentials.
    #[default]
    None,
    /// `Authorization: <scheme> <token>`; a token that renders empty sends no header.
    Bearer {
        /// The token.
        token: Template,
        /// The scheme written before it.
        #[serde(default = "bearer")]
        scheme: String,
    },
    /// A header of its own carries the key (e.g. `PRIVATE-TOKEN`); empty sends none.
    Header {
        /// Header name.
        name: String,
        /// Header value.
        value: Template,
    },
    /// A query parameter carries the key; empty sends none.
    Query {
        /// Parameter name.
        name: String,
        /// Parameter value.
        value: Template,
    },
    /// HTTP Basic.
    Basic {
        /// User name (an e-mail address for some APIs).
        username: Template,
        /// Password or API token.
        password: Template,
    },
    /// OAuth 2: an access token from `token_url`, sent as a bearer token and fetched again
    /// before it expires (or once after a 401).
    Oauth2 {
        /// Token endpoint (absolute URL).
        token_url: Template,
        /// The grant.
        grant: Grant,
        /// Client id.
        client_id: Template,
        /// Client secret.
        client_secret: Template,
        /// The refresh token, for the `refresh_token` grant.
        #[serde(default)]
        refresh_token: Option<Template>,
        /// Scopes asked for.
        #[serde(default)]
        scopes: Vec<String>,
        /// Seconds before expiry at which the token is fetched again (default 60).
        #[serde(default = "sixty")]
        refresh_margin_s: u64,
    },
    /// Alternatives in order: the first whose credentials render non-empty is sent (e.g. an
    /// OAuth token as a bearer, else an access token in a header of its own).
    FirstOf {
        /// The alternatives.
        of: Vec<AuthDef>,
    },
}

/// OAuth 2 grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// `grant_type=client_credentials`.
    ClientCredentials,
    /// `grant_type=refresh_token`.
    RefreshToken,
}

fn bearer() -> String {
    "Bearer".to_owned()
}

fn sixty() -> u64 {
    60
}

impl AuthDef {
    /// Every template the authentication reads.
    pub fn templates(&self) -> Vec<&Template> {
        match self {
            AuthDef::None => vec![],
            AuthDef::Bearer { token, .. } => vec![token],
            AuthDef::Header { value, .. } | AuthDef::Query { value, .. } => vec![value],
            AuthDef::Basic { username, password } => vec![username, password],
            AuthDef::Oauth2 {
                token_url,
                client_id,
                client_secret,
                refresh_token,
                ..
            } => {
                let mut t = vec![token_url, client_id, client_secret];
                t.extend(refresh_token);
                t
            }
            AuthDef::FirstOf { of } => of.iter().flat_map(AuthDef::templates).collect(),
        }
    }

    /// The bearer tokens among the alternatives (secret whatever their settings say).
    pub fn bearer_tokens(&self) -> Vec<&Template> {
        match self {
            AuthDef::Bearer { token, .. } => vec![token],
            AuthDef::FirstOf { of } => of.iter().flat_map(AuthDef::bearer_tokens).collect(),
            _ => vec![],
        }
    }
}
