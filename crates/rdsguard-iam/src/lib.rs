//! rdsguard's IAM policy engine: an exact, pure (no AWS SDK) implementation of AWS policy
//! evaluation, used to answer "who can create, change, delete or decrypt this database?".
//!
//! - [`policy`]: the policy grammar, parsed faithfully with located errors;
//! - [`compile`]: policies compiled once into an indexed form;
//! - [`condition`]: every condition operator, `IfExists`, `ForAllValues`/`ForAnyValue`;
//! - [`eval`]: AWS's evaluation logic (explicit deny, SCPs, RCPs, boundaries, session
//!   policies, identity and resource-based policies, KMS key policies), concrete or symbolic;
//! - [`sar`]: the Service Authorization Reference (RDS, KMS, EC2, IAM, STS) for validation;
//! - [`account`]: the account model built from a snapshot: who-can, explain, DB resolution;
//! - [`simulate`]: the JSON-lines batch simulator;
//! - [`generate`]: least-privilege, instance-specific policy generation, verified by the engine;
//! - [`render`]: plain-text rendering of answers.

pub mod account;
pub mod bulk;
pub mod compile;
pub mod condition;
pub mod context;
pub mod error;
pub mod eval;
pub mod fasthash;
pub mod formula;
pub mod generate;
pub mod glob;
mod json_tree;
pub mod org;
pub mod policy;
pub mod render;
pub mod sar;
pub mod simulate;
pub mod variables;

pub use account::{
    AccountModel, DbResource, Explanation, Grant, PrincipalAnswer, WhoCanAnswer, explain,
    rds_actions_for, resolve_db, who_can,
};
pub use bulk::{
    BulkWhoCan, CatalogIndex, ListAsker, Place, PlaceKind, PlanCache, ResourceAnswer,
    ResourceCatalog, SharedAnswers,
};
pub use compile::{CompiledPolicy, PolicyKind};
pub use context::{ContextValue, RequestContext};
pub use error::{ParseError, RequestError};
pub use eval::{Decision, PolicySet, Request, StaticDecision, evaluate};
pub use formula::Formula;
pub use generate::{GeneratedPolicy, generate_policy};
pub use org::OrgPolicies;
pub use policy::PolicyDocument;
pub use simulate::simulate_line;
