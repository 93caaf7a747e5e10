//! Collection progress: a bar on a terminal, nothing otherwise (CI logs stay clean).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rdsguard_model::Snapshot;

pub struct BarProgress {
    bar: ProgressBar,
    /// Organization scans: accounts that could not be assessed, and the total.
    accounts_failed: AtomicU64,
    accounts_total: AtomicU64,
}

impl BarProgress {
    pub fn new() -> Self {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} collecting [{bar:30}] {pos}/{len} calls {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        } else {
            ProgressBar::hidden()
        };
        BarProgress {
            bar,
            accounts_failed: AtomicU64::new(0),
            accounts_total: AtomicU64::new(0),
        }
    }

    /// One line after collection: what was collected and how many gaps there are.
    pub fn finish_summary(&self, snapshot: &Snapshot) {
        self.bar.finish_and_clear();
        let gaps: usize = snapshot
            .accounts
            .iter()
            .map(|a| a.gaps.len() + a.regions.iter().map(|r| r.gaps.len()).sum::<usize>())
            .sum();
        // Distinct region names: in an organization the same region of many accounts counts once.
        let regions = snapshot
            .accounts
            .iter()
            .flat_map(|a| a.regions.iter().map(|r| r.region.as_str()))
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        if snapshot.organization.is_some() {
            let unassessed = snapshot
                .accounts
                .iter()
                .filter(|a| a.regions.is_empty() && !a.gaps.is_empty())
                .count();
            eprintln!(
                "collected {} account(s) of organization {}{}",
                snapshot.accounts.len(),
                snapshot
                    .organization
                    .as_ref()
                    .map(|o| o.id.as_str())
                    .unwrap_or_default(),
                if unassessed > 0 {
                    format!(
                        "; {unassessed} could not be assessed (see the account_collected \
                         results for the reasons)"
                    )
                } else {
                    String::new()
                }
            );
        }
        if std::io::stderr().is_terminal() || gaps > 0 {
            eprintln!(
                "collected {} DB instance(s) in {} region(s){}",
                snapshot.db_instance_count(),
                regions,
                if gaps > 0 {
                    format!(
                        "; {gaps} call(s) failed: the checks that need them report NOT_ASSESSED"
                    )
                } else {
                    String::new()
                }
            );
        }
    }
}

impl rdsguard_collect::Progress for BarProgress {
    fn start(&self, total_hint: u64) {
        self.bar.set_length(total_hint);
    }
    fn op_done(&self, op: &str, region: Option<&str>) {
        self.bar.inc(1);
        if self.bar.position() > self.bar.length().unwrap_or(0) {
            self.bar.set_length(self.bar.position());
        }
        self.bar.set_message(match region {
            Some(r) => format!("{op} {r}"),
            None => op.to_string(),
        });
    }
    fn message(&self, msg: &str) {
        self.bar.set_message(msg.to_string());
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
    fn accounts_start(&self, total: u64) {
        self.accounts_total.store(total, Ordering::Relaxed);
        self.bar.set_style(
            ProgressStyle::with_template(
                "{spinner} collecting [{bar:30}] {pos}/{len} accounts {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        self.bar.set_length(total);
        self.bar.set_position(0);
    }
    fn account_done(&self, _account_id: &str, failed: bool) {
        if failed {
            self.accounts_failed.fetch_add(1, Ordering::Relaxed);
        }
        self.bar.inc(1);
        let done = self.bar.position();
        let total = self.accounts_total.load(Ordering::Relaxed);
        self.bar.set_message(format!(
            "({} failed, {} remaining)",
            self.accounts_failed.load(Ordering::Relaxed),
            total.saturating_sub(done)
        ));
    }
}
