//! The journal: one JSON object a line, mode 0600, fsynced after every line, so an interrupted
//! run (a crash, a failed call, a lost connection) can be finished with `--resume`.
//!
//! The first line holds the whole plan and its hash; every step then gets a `started` line
//! before its call and a `succeeded` (with its outputs) or `failed` line after. Resuming
//! re-reads the plan from the journal, refuses it if the hash does not match (an edited or
//! truncated header), and continues after the last succeeded step.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plan::Plan;

pub type Outputs = BTreeMap<String, String>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Started,
    Succeeded,
    Failed,
    /// A step completed by an earlier run, checked again on resume.
    Reverified,
}

/// One journal line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Entry {
    Plan {
        plan_hash: String,
        tool_version: String,
        at: String,
        plan: Plan,
    },
    Step {
        step_id: String,
        status: StepStatus,
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        outputs: Outputs,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        at: String,
    },
    Resumed {
        at: String,
    },
    Finished {
        at: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot write journal {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "journal {path} already exists: resume it with `rdsguard fix --resume {path}`, or \
         choose another file with --journal"
    )]
    Exists { path: PathBuf },
    #[error("journal {path} is not a valid rdsguard journal: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(
        "journal {path} belongs to another plan (journal plan {journal_hash}, expected \
         {expected_hash}); it cannot be resumed with this plan"
    )]
    PlanMismatch {
        path: PathBuf,
        journal_hash: String,
        expected_hash: String,
    },
}

/// What a journal says about a run.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalState {
    pub plan: Plan,
    pub plan_hash: String,
    /// Steps that succeeded, with their outputs.
    pub succeeded: BTreeMap<String, Outputs>,
    /// Steps started but with no outcome recorded (the run stopped during the call).
    pub interrupted: BTreeSet<String>,
    /// The last failure, if the run stopped on one: (step id, error).
    pub failed: Option<(String, String)>,
    pub finished: bool,
}

/// An open journal, appended to.
pub struct Journal {
    path: PathBuf,
    file: File,
    pub state: JournalState,
}

pub(crate) fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Journal {
    /// Start a new journal for `plan` at `path` (which must not exist).
    pub fn create(path: &Path, plan: &Plan) -> Result<Journal, JournalError> {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(path).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AlreadyExists {
                JournalError::Exists {
                    path: path.to_path_buf(),
                }
            } else {
                JournalError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
        let plan_hash = plan.hash();
        let mut journal = Journal {
            path: path.to_path_buf(),
            file,
            state: JournalState {
                plan: plan.clone(),
                plan_hash: plan_hash.clone(),
                succeeded: BTreeMap::new(),
                interrupted: BTreeSet::new(),
                failed: None,
                finished: false,
            },
        };
        journal.append(&Entry::Plan {
            plan_hash,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            at: now(),
            plan: plan.clone(),
        })?;
        Ok(journal)
    }

    /// Open an existing journal to resume it. With `expected`, refuse a journal of another
    /// plan.
    pub fn open(path: &Path, expected: Option<&Plan>) -> Result<Journal, JournalError> {
        let state = read_state(path)?;
        if let Some(plan) = expected {
            let expected_hash = plan.hash();
            if expected_hash != state.plan_hash {
                return Err(JournalError::PlanMismatch {
                    path: path.to_path_buf(),
                    journal_hash: state.plan_hash,
                    expected_hash,
                });
            }
        }
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|source| JournalError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        let mut journal = Journal {
            path: path.to_path_buf(),
            file,
            state,
        };
        journal.append(&Entry::Resumed { at: now() })?;
        Ok(journal)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one entry and flush it to disk before returning.
    pub fn append(&mut self, entry: &Entry) -> Result<(), JournalError> {
        let io = |source| JournalError::Io {
            path: self.path.clone(),
            source,
        };
        let mut line = serde_json::to_vec(entry).map_err(|e| io(std::io::Error::other(e)))?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(io)?;
        self.file.sync_all().map_err(io)?;
        apply_entry(&mut self.state, entry);
        Ok(())
    }

    pub fn step(
        &mut self,
        step_id: &str,
        status: StepStatus,
        outputs: Outputs,
        error: Option<String>,
    ) -> Result<(), JournalError> {
        self.append(&Entry::Step {
            step_id: step_id.to_string(),
            status,
            outputs,
            error,
            at: now(),
        })
    }
}

fn apply_entry(state: &mut JournalState, entry: &Entry) {
    match entry {
        Entry::Step {
            step_id,
            status,
            outputs,
            error,
            ..
        } => match status {
            StepStatus::Started => {
                state.interrupted.insert(step_id.clone());
            }
            StepStatus::Succeeded | StepStatus::Reverified => {
                state.interrupted.remove(step_id);
                state.succeeded.insert(step_id.clone(), outputs.clone());
                if state.failed.as_ref().is_some_and(|(s, _)| s == step_id) {
                    state.failed = None;
                }
            }
            StepStatus::Failed => {
                state.interrupted.remove(step_id);
                state.failed = Some((step_id.clone(), error.clone().unwrap_or_default()));
            }
        },
        Entry::Finished { .. } => state.finished = true,
        Entry::Plan { .. } | Entry::Resumed { .. } => {}
    }
}

/// Read a journal. A last line cut short (a crash while writing it) is ignored; any other
/// unreadable line makes the journal invalid.
pub fn read_state(path: &Path) -> Result<JournalState, JournalError> {
    let invalid = |message: String| JournalError::Invalid {
        path: path.to_path_buf(),
        message,
    };
    let file = File::open(path).map_err(|source| JournalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|source| JournalError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let mut state: Option<JournalState> = None;
    let count = lines.len();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry: Entry = match serde_json::from_str(line) {
            Ok(e) => e,
            Err(_) if i + 1 == count && i > 0 => break,
            Err(e) => return Err(invalid(format!("line {}: {e}", i + 1))),
        };
        match (&mut state, entry) {
            (
                None,
                Entry::Plan {
                    plan_hash, plan, ..
                },
            ) => {
                let actual = plan.hash();
                if actual != plan_hash {
                    return Err(invalid(format!(
                        "the plan it holds hashes to {actual}, not the recorded {plan_hash} \
                         (edited?)"
                    )));
                }
                plan.validate().map_err(invalid)?;
                state = Some(JournalState {
                    plan,
                    plan_hash,
                    succeeded: BTreeMap::new(),
                    interrupted: BTreeSet::new(),
                    failed: None,
                    finished: false,
                });
            }
            (None, _) => return Err(invalid("the first line is not the plan".to_string())),
            (Some(_), Entry::Plan { .. }) => {
                return Err(invalid(format!("line {}: a second plan", i + 1)));
            }
            (Some(s), entry) => {
                if let Entry::Step { step_id, .. } = &entry
                    && s.plan.step(step_id).is_none()
                {
                    return Err(invalid(format!(
                        "line {}: step {step_id} is not in the plan",
                        i + 1
                    )));
                }
                apply_entry(s, &entry);
            }
        }
    }
    state.ok_or_else(|| invalid("it is empty".to_string()))
}
