//! rdsguard's remediation: turn failing findings into a plan of exact AWS calls, show it,
//! apply it with a journal, resume an interrupted run, and never lose data.
//!
//! - [`planner::plan`] is a pure function of (snapshot, findings, options) to a [`Plan`]: the
//!   calls in order, with the findings each fixes, its impact (none, brief interruption,
//!   reboot, new resource to cut over to), preconditions, verification and rollback.
//!   A resource that is already fixed has no failing finding, so a second plan is empty.
//! - [`executor::apply`] performs a plan through an [`Executor`] (the AWS SDK in [`aws`], fakes
//!   in tests), journaling every step ([`journal`]) and stopping at the first failure.
//! - [`outcome::compare`] tells which findings pass after a re-audit.
//!
//! Nothing is ever deleted: encryption makes encrypted copies beside the originals, network
//! changes replace groups on the database without deleting them, and no plan carries a
//! secret.

#[cfg(feature = "aws")]
pub mod aws;
pub mod executor;
pub mod journal;
pub mod options;
pub mod outcome;
pub mod plan;
pub mod planner;
pub mod render;

pub use executor::{ApplyError, ApplyReport, CallError, Event, Executor, Verified, apply};
pub use journal::{Journal, JournalError, JournalState};
pub use options::{FixOptions, IamGrant, IamPrincipal};
pub use plan::{FindingRef, Impact, Plan, Remediation, Skipped, Step};
pub use planner::{PlanError, plan};
