//! Collection progress: a bar on a terminal, nothing otherwise (CI logs stay clean).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rdsguard_model::Snapshot;

pub struct BarProgress {
    bar: ProgressBar,
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
        BarProgress { bar }
    }

    /// One line after collection: what was collected and how many gaps there are.
    pub fn finish_summary(&self, snapshot: &Snapshot) {
        self.bar.finish_and_clear();
        let gaps: usize = snapshot
            .accounts
            .iter()
            .map(|a| a.gaps.len() + a.regions.iter().map(|r| r.gaps.len()).sum::<usize>())
            .sum();
        let regions: usize = snapshot.accounts.iter().map(|a| a.regions.len()).sum();
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
}
