//! Errors of the IAM engine: malformed policy documents and invalid requests.

use serde::Serialize;

/// A policy document that does not follow the IAM policy grammar, with the JSON path of the
/// offending element (`$` for the document itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ParseError {
    pub path: String,
    pub message: String,
}

impl ParseError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> ParseError {
        ParseError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// The same error located inside a named policy (`identityPolicies[2]`, a policy ARN...).
    pub fn within(self, policy: &str) -> ParseError {
        ParseError {
            path: if self.path == "$" {
                policy.to_string()
            } else {
                format!("{policy}.{}", self.path)
            },
            message: self.message,
        }
    }
}

/// A request the engine refuses to evaluate, as AWS would refuse it (unknown action, resource
/// type the action does not apply to...) or because an input is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("action `{0}` is not of the form service:Action")]
    MalformedAction(String),
    #[error("unknown service `{0}` (the engine carries the reference for: {1})")]
    UnknownService(String, String),
    #[error("unknown action `{0}`")]
    UnknownAction(String),
    #[error(
        "action `{action}` only supports the resource `*` (it is a wildcard-only action), got `{resource}`"
    )]
    WildcardOnlyAction { action: String, resource: String },
    #[error(
        "`{resource}` is not a resource type that `{action}` applies to (applies to: {applies_to})"
    )]
    ResourceTypeNotApplicable {
        action: String,
        resource: String,
        applies_to: String,
    },
    #[error("`{resource}` matches several resource types of `{action}`; give a more specific ARN")]
    AmbiguousResourceType { action: String, resource: String },
    #[error("`{0}` is not a valid ARN")]
    MalformedArn(String),
    #[error(
        "`{0}` is not a valid principal (expected an IAM user/role/assumed-role/federated-user ARN, an account root ARN or a service principal)"
    )]
    MalformedPrincipal(String),
    #[error("a session policy applies only to role sessions and federated users, not `{0}`")]
    SessionPolicyNotApplicable(String),
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error(transparent)]
    Policy(#[from] ParseError),
}
