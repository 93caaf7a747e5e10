//! Activity summary (events by principal, by API call and by hour) and its text rendering.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use serde::Serialize;

use crate::TrailResult;

/// Counts for one summary row.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SummaryCounts {
    /// Events in the time range.
    pub events: u64,
    /// Of which failed (had an errorCode).
    pub errors: u64,
    /// Of which matched at least one detection (built-in or Sigma).
    pub flagged: u64,
}

impl SummaryCounts {
    fn add(&mut self, other: SummaryCounts) {
        self.events += other.events;
        self.errors += other.errors;
        self.flagged += other.flagged;
    }
}

/// Activity by principal, by API call (`service:EventName`, e.g. `rds:ModifyDBInstance`) and
/// by hour (`YYYY-MM-DDTHH:00Z`, or `unknown` for events without a readable time).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrailSummary {
    pub by_principal: BTreeMap<String, SummaryCounts>,
    pub by_event: BTreeMap<String, SummaryCounts>,
    pub by_hour: BTreeMap<String, SummaryCounts>,
}

/// Distinct keys kept per table and worker; the rest is counted under [`OTHER`] so that a
/// hostile corpus (millions of random principals) cannot exhaust memory.
const MAX_KEYS: usize = 100_000;
/// The row that collects keys beyond [`MAX_KEYS`].
pub const OTHER: &str = "(other)";

/// Per-worker accumulation, keyed without allocating for rows already present.
#[derive(Debug, Default)]
pub(crate) struct SummaryAcc {
    by_principal: HashMap<String, SummaryCounts>,
    by_event: HashMap<String, HashMap<String, SummaryCounts>>,
    event_keys: usize,
    by_hour: HashMap<i64, SummaryCounts>,
    unknown_hour: SummaryCounts,
}

fn bump(c: &mut SummaryCounts, failed: bool, flagged: bool) {
    c.events += 1;
    c.errors += u64::from(failed);
    c.flagged += u64::from(flagged);
}

impl SummaryAcc {
    pub(crate) fn add(
        &mut self,
        principal: &str,
        source: &str,
        name: &str,
        hour: Option<i64>,
        failed: bool,
        flagged: bool,
    ) {
        let row = match self.by_principal.get_mut(principal) {
            Some(row) => row,
            None => {
                let key = if self.by_principal.len() < MAX_KEYS {
                    principal
                } else {
                    OTHER
                };
                self.by_principal.entry(key.to_string()).or_default()
            }
        };
        bump(row, failed, flagged);

        let service = source.split('.').next().unwrap_or(source);
        let full = self.event_keys >= MAX_KEYS;
        let names = match self.by_event.get_mut(service) {
            Some(names) => names,
            None => {
                let key = if full { OTHER } else { service };
                self.by_event.entry(key.to_string()).or_default()
            }
        };
        let row = match names.get_mut(name) {
            Some(row) => row,
            None => {
                self.event_keys += 1;
                let key = if full { OTHER } else { name };
                names.entry(key.to_string()).or_default()
            }
        };
        bump(row, failed, flagged);

        let row = match hour {
            Some(h) => self.by_hour.entry(h).or_default(),
            None => &mut self.unknown_hour,
        };
        bump(row, failed, flagged);
    }

    pub(crate) fn merge(&mut self, other: SummaryAcc) {
        for (k, v) in other.by_principal {
            self.by_principal.entry(k).or_default().add(v);
        }
        for (service, names) in other.by_event {
            let mine = self.by_event.entry(service).or_default();
            for (k, v) in names {
                mine.entry(k).or_default().add(v);
            }
        }
        self.event_keys += other.event_keys;
        for (k, v) in other.by_hour {
            self.by_hour.entry(k).or_default().add(v);
        }
        self.unknown_hour.add(other.unknown_hour);
    }

    pub(crate) fn finish(self) -> TrailSummary {
        let mut s = TrailSummary {
            by_principal: self.by_principal.into_iter().collect(),
            ..TrailSummary::default()
        };
        for (service, names) in self.by_event {
            for (name, v) in names {
                let key = if service == OTHER || name == OTHER {
                    OTHER.to_string()
                } else if service.is_empty() {
                    name
                } else {
                    format!("{service}:{name}")
                };
                s.by_event.entry(key).or_default().add(v);
            }
        }
        for (hour, v) in self.by_hour {
            let key = crate::timefmt::Instant {
                unix: hour * 3600,
                nanos: 0,
            }
            .hour_key();
            s.by_hour.entry(key).or_default().add(v);
        }
        if self.unknown_hour.events > 0 {
            s.by_hour.insert("unknown".into(), self.unknown_hour);
        }
        s
    }
}

fn top(map: &BTreeMap<String, SummaryCounts>, n: usize) -> Vec<(&String, &SummaryCounts)> {
    let mut rows: Vec<_> = map.iter().collect();
    rows.sort_by(|a, b| {
        b.1.flagged
            .cmp(&a.1.flagged)
            .then(b.1.events.cmp(&a.1.events))
            .then(a.0.cmp(b.0))
    });
    rows.truncate(n);
    rows
}

fn table(out: &mut String, title: &str, rows: &[(&String, &SummaryCounts)], total: usize) {
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        .max(title.len());
    let _ = writeln!(
        out,
        "{title:<width$}  {:>10}  {:>8}  {:>8}",
        "events", "errors", "flagged"
    );
    for (k, c) in rows {
        let _ = writeln!(
            out,
            "{k:<width$}  {:>10}  {:>8}  {:>8}",
            c.events, c.errors, c.flagged
        );
    }
    if total > rows.len() {
        let _ = writeln!(out, "... and {} more", total - rows.len());
    }
    out.push('\n');
}

/// A plain-text summary of a scan: inputs, activity tables, findings by severity, and what
/// was skipped.
pub fn render_summary_table(result: &TrailResult) -> String {
    const ROWS: usize = 15;
    let mut out = String::new();
    let st = &result.stats;
    let _ = writeln!(
        out,
        "Scanned {} input(s), {} record(s), {} event(s) in range, {:.1} MB of JSON",
        st.files,
        st.records,
        st.events,
        st.bytes_uncompressed as f64 / 1e6
    );
    if st.events_out_of_range > 0 || st.events_without_time > 0 || st.non_cloudtrail_records > 0 {
        let _ = writeln!(
            out,
            "Left out: {} out of the time range, {} without a readable eventTime, {} not CloudTrail",
            st.events_out_of_range, st.events_without_time, st.non_cloudtrail_records
        );
    }
    out.push('\n');
    let s = &result.summary;
    table(
        &mut out,
        "Principal",
        &top(&s.by_principal, ROWS),
        s.by_principal.len(),
    );
    table(
        &mut out,
        "API call",
        &top(&s.by_event, ROWS),
        s.by_event.len(),
    );
    let hours: Vec<_> = s.by_hour.iter().collect();
    let shown: Vec<_> = if hours.len() > 48 {
        hours[hours.len() - 48..].to_vec()
    } else {
        hours.clone()
    };
    table(&mut out, "Hour (UTC)", &shown, hours.len());

    let mut by_sev: BTreeMap<rdsguard_findings::Severity, usize> = BTreeMap::new();
    for f in &result.findings {
        *by_sev.entry(f.severity).or_default() += 1;
    }
    let _ = write!(out, "Findings: {}", result.findings.len());
    for sev in rdsguard_findings::Severity::ALL {
        if let Some(n) = by_sev.get(&sev) {
            let _ = write!(out, ", {n} {sev}");
        }
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "Detections loaded: {} ({} Sigma rules not loaded)",
        result.detections.len(),
        result.rule_problems.len()
    );
    if !result.skipped_inputs.is_empty() {
        let _ = writeln!(
            out,
            "Inputs skipped or partly read: {}",
            result.skipped_inputs.len()
        );
        for s in result.skipped_inputs.iter().take(ROWS) {
            let _ = writeln!(out, "  {}: {}", s.input, s.reason);
        }
        if result.skipped_inputs.len() > ROWS {
            let _ = writeln!(out, "  ... and {} more", result.skipped_inputs.len() - ROWS);
        }
    }
    out
}
