//! Applying a plan: every step in order, each journaled before and after its call; the first
//! failure stops the run with the journal intact and says how to resume or roll back.
//!
//! The calls themselves go through an [`Executor`], implemented with the AWS SDK
//! ([`crate::aws::SdkExecutor`]) and by fakes in tests, so this logic is tested without AWS.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::journal::{Entry, Journal, JournalError, Outputs, StepStatus};
use crate::plan::{Plan, Step, contains_secret_key, resolve};

/// Why one call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The service answered with an error (AccessDenied, InvalidParameterCombination...).
    #[error("{code}: {message}")]
    Service { code: String, message: String },
    /// The request did not get an answer (connection refused, timeout, unparseable reply).
    #[error("no answer from AWS: {0}")]
    Transport(String),
    /// The step's parameters are not what the operation needs.
    #[error("invalid parameters: {0}")]
    Invalid(String),
    /// The operation is not one the executor knows.
    #[error("unsupported operation {0}")]
    Unsupported(String),
    /// A resource did not become available in time.
    #[error("timed out: {0}")]
    Timeout(String),
}

/// The outcome of re-checking a completed step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// The step's effect is in place.
    Yes,
    /// The step's effect is gone (someone changed it back, the resource disappeared).
    No(String),
    /// The executor has no way to check this operation; the re-audit will.
    NotCheckable,
}

/// Performs AWS calls. One `call` per step; the implementation dispatches on the step's
/// service and operation.
#[allow(async_fn_in_trait)]
pub trait Executor {
    /// The account the credentials act in (steps of other accounts are refused).
    async fn account_id(&self) -> Result<String, CallError>;
    /// Make the call of `step` with its resolved `parameters`, wait for what the step says to
    /// wait for, and return the outputs the step declares.
    async fn call(&self, step: &Step, parameters: &Value) -> Result<Outputs, CallError>;
    /// Check that a step completed earlier is still in effect.
    async fn verify(
        &self,
        step: &Step,
        parameters: &Value,
        outputs: &Outputs,
    ) -> Result<Verified, CallError>;
}

/// What happened to each step, as the run goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Starting {
        step_id: String,
        description: String,
    },
    Succeeded {
        step_id: String,
    },
    Reverified {
        step_id: String,
    },
    /// Completed earlier; the executor cannot re-check it (the re-audit will).
    AlreadyDone {
        step_id: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Steps applied in this run.
    pub applied: Vec<String>,
    /// Steps completed by an earlier run (resume), re-checked or not checkable.
    pub already_done: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("cannot tell which account the credentials belong to: {0}")]
    Identity(CallError),
    #[error(
        "the plan has steps for account {plan_account}, but the credentials act in account \
         {caller}; use credentials of that account (--profile)"
    )]
    WrongAccount {
        plan_account: String,
        caller: String,
    },
    #[error("the plan is invalid: {0}")]
    InvalidPlan(String),
    #[error(
        "step {step_id} ({operation}) failed: {error}\n  The journal {journal} records every \
         step applied so far. Fix the cause, then finish with `rdsguard fix --resume {journal}`.\
         {rollback}"
    )]
    StepFailed {
        step_id: String,
        operation: String,
        error: CallError,
        journal: String,
        rollback: String,
    },
    #[error(
        "step {step_id}, completed by an earlier run, is no longer in effect: {why}. Nothing \
         was changed in this run; plan again (`rdsguard fix`) to see what is needed now."
    )]
    Regressed { step_id: String, why: String },
}

/// Apply `journal`'s plan through `exec`, skipping (and re-checking) the steps the journal
/// records as done. Stops at the first failure.
pub async fn apply<E: Executor>(
    exec: &E,
    journal: &mut Journal,
    on_event: &mut dyn FnMut(Event),
) -> Result<ApplyReport, ApplyError> {
    let plan: Plan = journal.state.plan.clone();
    plan.validate().map_err(ApplyError::InvalidPlan)?;
    if let Some(step) = plan
        .steps
        .iter()
        .find(|s| contains_secret_key(&s.parameters))
    {
        return Err(ApplyError::InvalidPlan(format!(
            "step {} carries a secret in its parameters; rdsguard never sends secrets from plans",
            step.id
        )));
    }
    if !plan.steps.is_empty() {
        let caller = exec.account_id().await.map_err(ApplyError::Identity)?;
        if let Some(other) = plan.steps.iter().find(|s| s.account_id != caller) {
            return Err(ApplyError::WrongAccount {
                plan_account: other.account_id.clone(),
                caller,
            });
        }
    }
    let mut outputs: BTreeMap<String, Outputs> = journal.state.succeeded.clone();
    let mut report = ApplyReport::default();
    for step in &plan.steps {
        let parameters = resolve(&step.parameters, &outputs).map_err(ApplyError::InvalidPlan)?;
        if let Some(done) = journal.state.succeeded.get(&step.id).cloned() {
            match exec.verify(step, &parameters, &done).await {
                Ok(Verified::Yes) => {
                    journal.step(&step.id, StepStatus::Reverified, done, None)?;
                    on_event(Event::Reverified {
                        step_id: step.id.clone(),
                    });
                }
                Ok(Verified::NotCheckable) => on_event(Event::AlreadyDone {
                    step_id: step.id.clone(),
                }),
                Ok(Verified::No(why)) => {
                    return Err(ApplyError::Regressed {
                        step_id: step.id.clone(),
                        why,
                    });
                }
                Err(error) => {
                    return Err(failed(journal, step, error));
                }
            }
            report.already_done.push(step.id.clone());
            continue;
        }
        on_event(Event::Starting {
            step_id: step.id.clone(),
            description: step.description.clone(),
        });
        journal.step(&step.id, StepStatus::Started, Outputs::new(), None)?;
        match exec.call(step, &parameters).await {
            Ok(out) => {
                let missing: Vec<&String> = step
                    .outputs
                    .iter()
                    .filter(|o| !out.contains_key(*o))
                    .collect();
                if !missing.is_empty() {
                    let error = CallError::Invalid(format!(
                        "the call succeeded but did not return {}",
                        missing
                            .iter()
                            .map(|s| s.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                    return Err(failed(journal, step, error));
                }
                journal.step(&step.id, StepStatus::Succeeded, out.clone(), None)?;
                outputs.insert(step.id.clone(), out);
                report.applied.push(step.id.clone());
                on_event(Event::Succeeded {
                    step_id: step.id.clone(),
                });
            }
            Err(error) => return Err(failed(journal, step, error)),
        }
    }
    journal.append(&Entry::Finished {
        at: crate::journal::now(),
    })?;
    Ok(report)
}

/// Journal a failure and build the error that tells the user how to go on.
fn failed(journal: &mut Journal, step: &Step, error: CallError) -> ApplyError {
    if let Err(e) = journal.step(
        &step.id,
        StepStatus::Failed,
        Outputs::new(),
        Some(error.to_string()),
    ) {
        return ApplyError::Journal(e);
    }
    let plan = &journal.state.plan;
    let done: Vec<&Step> = plan
        .steps
        .iter()
        .filter(|s| journal.state.succeeded.contains_key(&s.id))
        .collect();
    let rollback = if done.is_empty() {
        "\n  No step was applied, so there is nothing to roll back.".to_string()
    } else {
        let mut text =
            String::from("\n  To roll back instead, undo the applied steps in reverse order:");
        for s in done.iter().rev() {
            text.push_str(&format!("\n    {}: {}", s.id, s.rollback));
        }
        text
    };
    ApplyError::StepFailed {
        step_id: step.id.clone(),
        operation: format!("{}:{}", step.service, step.operation),
        error,
        journal: journal.path().display().to_string(),
        rollback,
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::journal::{Journal, JournalError, read_state};
    use crate::plan::{Impact, Remediation};

    /// Records calls; fails the call of `fail_on` while it is set.
    struct Fake {
        account: String,
        fail_on: RefCell<Option<String>>,
        calls: RefCell<Vec<(String, Value)>>,
        verified: RefCell<Vec<String>>,
        regressed: Option<String>,
    }

    impl Fake {
        fn new() -> Fake {
            Fake {
                account: "111111111111".into(),
                fail_on: RefCell::new(None),
                calls: RefCell::new(Vec::new()),
                verified: RefCell::new(Vec::new()),
                regressed: None,
            }
        }
    }

    impl Executor for Fake {
        async fn account_id(&self) -> Result<String, CallError> {
            Ok(self.account.clone())
        }
        async fn call(&self, step: &Step, parameters: &Value) -> Result<Outputs, CallError> {
            if self.fail_on.borrow().as_deref() == Some(step.id.as_str()) {
                return Err(CallError::Service {
                    code: "AccessDenied".into(),
                    message: "denied by the test".into(),
                });
            }
            self.calls
                .borrow_mut()
                .push((step.id.clone(), parameters.clone()));
            Ok(step
                .outputs
                .iter()
                .map(|o| (o.clone(), format!("{}-{o}", step.id)))
                .collect())
        }
        async fn verify(&self, step: &Step, _: &Value, _: &Outputs) -> Result<Verified, CallError> {
            self.verified.borrow_mut().push(step.id.clone());
            Ok(match &self.regressed {
                Some(id) if id == &step.id => Verified::No("changed back".into()),
                _ => Verified::Yes,
            })
        }
    }

    fn step(id: &str, parameters: Value, outputs: &[&str]) -> Step {
        Step {
            id: id.into(),
            remediation: Remediation::Network,
            fixes: Vec::new(),
            account_id: "111111111111".into(),
            region: Some("us-east-1".into()),
            service: "ec2".into(),
            operation: "Op".into(),
            parameters,
            impact: Impact::None,
            description: format!("do {id}"),
            preconditions: Vec::new(),
            verification: String::new(),
            rollback: format!("undo {id}"),
            outputs: outputs.iter().map(|s| s.to_string()).collect(),
            wait: None,
        }
    }

    fn three_steps() -> Plan {
        let mut plan = Plan::new("2026-11-30T00:00:00Z");
        plan.steps = vec![
            step("a", json!({"Name": "g"}), &["GroupId"]),
            step("b", json!({"GroupId": "${a.GroupId}"}), &[]),
            step("c", json!({"Ids": ["${a.GroupId}"]}), &[]),
        ];
        plan
    }

    fn block<F: std::future::Future>(f: F) -> F::Output {
        // The fake never awaits anything real: a minimal executor is enough.
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    #[test]
    fn applies_in_order_resolving_placeholders_and_journals_everything() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let plan = three_steps();
        let fake = Fake::new();
        let mut journal = Journal::create(&path, &plan).unwrap();
        let report = block(apply(&fake, &mut journal, &mut |_| {})).unwrap();
        assert_eq!(report.applied, ["a", "b", "c"]);
        let calls = fake.calls.borrow();
        assert_eq!(calls[1].1, json!({"GroupId": "a-GroupId"}));
        assert_eq!(calls[2].1, json!({"Ids": ["a-GroupId"]}));
        let state = read_state(&path).unwrap();
        assert!(state.finished);
        assert_eq!(
            state.succeeded["a"],
            BTreeMap::from([("GroupId".to_string(), "a-GroupId".to_string())])
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    #[test]
    fn a_failure_stops_the_run_and_resume_finishes_it_without_repeating_steps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let plan = three_steps();
        let fake = Fake::new();
        *fake.fail_on.borrow_mut() = Some("b".into());
        let mut journal = Journal::create(&path, &plan).unwrap();
        let err = block(apply(&fake, &mut journal, &mut |_| {})).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("step b") && text.contains("AccessDenied"),
            "{text}"
        );
        assert!(
            text.contains("--resume") && text.contains("undo a"),
            "{text}"
        );
        assert_eq!(
            fake.calls.borrow().len(),
            1,
            "c must not run after b failed"
        );
        drop(journal);
        let state = read_state(&path).unwrap();
        assert_eq!(state.failed.as_ref().map(|f| f.0.as_str()), Some("b"));
        assert!(!state.finished);

        *fake.fail_on.borrow_mut() = None;
        let mut journal = Journal::open(&path, Some(&plan)).unwrap();
        let report = block(apply(&fake, &mut journal, &mut |_| {})).unwrap();
        assert_eq!(report.already_done, ["a"]);
        assert_eq!(report.applied, ["b", "c"]);
        assert_eq!(*fake.verified.borrow(), ["a"]);
        let calls = fake.calls.borrow();
        assert_eq!(calls.iter().filter(|c| c.0 == "a").count(), 1);
        // b gets a's output from the journal of the first run.
        assert_eq!(calls[1].1, json!({"GroupId": "a-GroupId"}));
        assert!(read_state(&path).unwrap().finished);
    }

    #[test]
    fn resume_refuses_another_plan_and_an_edited_journal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let plan = three_steps();
        drop(Journal::create(&path, &plan).unwrap());
        let mut other = three_steps();
        other.steps[0].parameters = json!({"Name": "other"});
        assert!(matches!(
            Journal::open(&path, Some(&other)),
            Err(JournalError::PlanMismatch { .. })
        ));
        assert!(matches!(
            Journal::create(&path, &plan),
            Err(JournalError::Exists { .. })
        ));
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace("\"Name\":\"g\"", "\"Name\":\"h\"");
        std::fs::write(&path, text).unwrap();
        assert!(matches!(
            Journal::open(&path, None),
            Err(JournalError::Invalid { .. })
        ));
    }

    #[test]
    fn a_line_cut_short_by_a_crash_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let plan = three_steps();
        let fake = Fake::new();
        *fake.fail_on.borrow_mut() = Some("c".into());
        let mut journal = Journal::create(&path, &plan).unwrap();
        let _ = block(apply(&fake, &mut journal, &mut |_| {}));
        drop(journal);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{\"type\":\"step\",\"step_id\":\"c\",\"sta");
        std::fs::write(&path, text).unwrap();
        let state = read_state(&path).unwrap();
        assert_eq!(state.succeeded.len(), 2);
    }

    #[test]
    fn a_completed_step_that_was_undone_stops_the_resume() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let plan = three_steps();
        let mut fake = Fake::new();
        *fake.fail_on.borrow_mut() = Some("c".into());
        let mut journal = Journal::create(&path, &plan).unwrap();
        let _ = block(apply(&fake, &mut journal, &mut |_| {}));
        drop(journal);
        fake.regressed = Some("b".into());
        *fake.fail_on.borrow_mut() = None;
        let mut journal = Journal::open(&path, None).unwrap();
        let err = block(apply(&fake, &mut journal, &mut |_| {})).unwrap_err();
        assert!(
            matches!(err, ApplyError::Regressed { ref step_id, .. } if step_id == "b"),
            "{err}"
        );
        assert_eq!(
            fake.calls.borrow().len(),
            2,
            "nothing applied after the regression"
        );
    }

    #[test]
    fn steps_of_another_account_or_with_secrets_are_refused_before_any_call() {
        let dir = tempfile::tempdir().unwrap();
        let mut plan = three_steps();
        plan.steps[2].account_id = "222222222222".into();
        let fake = Fake::new();
        let mut journal = Journal::create(&dir.path().join("j1"), &plan).unwrap();
        let err = block(apply(&fake, &mut journal, &mut |_| {})).unwrap_err();
        assert!(matches!(err, ApplyError::WrongAccount { .. }), "{err}");
        let mut plan = three_steps();
        plan.steps[1].parameters = json!({"MasterUserPassword": "x"});
        let mut journal = Journal::create(&dir.path().join("j2"), &plan).unwrap();
        let err = block(apply(&fake, &mut journal, &mut |_| {})).unwrap_err();
        assert!(matches!(err, ApplyError::InvalidPlan(_)), "{err}");
        assert!(fake.calls.borrow().is_empty());
    }
}
