//! A check's decision about one resource, computed first and emitted once, so evaluation
//! functions stay pure and testable.

use rdsguard_findings::{Severity, Status};

use crate::engine::{Emitter, explaining};

pub type Evidence = rdsguard_findings::Evidence;

#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Pass(String, Evidence),
    Fail(String, Evidence),
    /// A failure graded at a severity other than the check's default.
    FailAt(Severity, String, Evidence),
    NotAssessed(String),
    NotApplicable(String),
}

impl Verdict {
    /// PASS with the `pass` message when `ok`, otherwise FAIL with the `fail` one; both carry
    /// the evidence. Only the message used is formatted, and only when the result is
    /// explained ([`explaining`]).
    // Inlined: called for millions of results, and its verdict is then taken apart by `emit`
    // (out of line, each verdict went through memory).
    #[inline(always)]
    pub fn pass_if(
        ok: bool,
        pass: impl FnOnce() -> String,
        fail: impl FnOnce() -> String,
        evidence: Evidence,
    ) -> Verdict {
        let explain = explaining();
        if ok {
            Verdict::Pass(if explain { pass() } else { String::new() }, evidence)
        } else {
            Verdict::Fail(if explain { fail() } else { String::new() }, evidence)
        }
    }

    // Inlined in the loops that judge millions of results (its cold part is not).
    #[inline(always)]
    pub fn emit(self, em: &mut Emitter<'_>, resource: impl Into<crate::engine::ResourceArg>) {
        // Taken apart first: what is left to drop is a string and evidence (empty, in the
        // analysis), not the enum (its drop was a call per result).
        let (status, severity, message, evidence) = match self {
            Verdict::Pass(m, ev) => (Status::Pass, em.severity(), m, ev),
            Verdict::Fail(m, ev) => (Status::Fail, em.severity(), m, ev),
            Verdict::FailAt(severity, m, ev) => (Status::Fail, severity, m, ev),
            Verdict::NotAssessed(r) => (Status::NotAssessed, em.severity(), r, Evidence::new()),
            Verdict::NotApplicable(r) => (Status::NotApplicable, em.severity(), r, Evidence::new()),
        };
        // In the analysis only the status is kept: recorded without the message and evidence.
        let Some(resource) = em.record_status(status, severity, resource.into()) else {
            return;
        };
        em.push_recorded(status, severity, resource, message.into(), evidence);
    }

    /// A PASS that only holds once a pending change of a group (`kind` `group`, e.g.
    /// "parameter group" `default.mysql8.0`) is applied becomes a FAIL saying so (FSBP also
    /// fails groups that are not in sync); other verdicts are kept.
    pub fn pending(self, in_sync: bool, kind: &str, group: &str, status: &str) -> Verdict {
        match self {
            Verdict::Pass(m, ev) if !in_sync => Verdict::Fail(
                crate::msg!(
                    "{m}, but {kind} {group} is {status}: the running configuration may still \
                     differ until the change is applied (reboot)"
                ),
                ev,
            ),
            other => other,
        }
    }
}
