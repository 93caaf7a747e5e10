//! The scan engine: opening inputs (gzip detected by magic bytes), walking directories, the
//! per-record pipeline (time filter, summary, detections, Sigma), per-thread accumulators
//! and the final merge into a [`TrailResult`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::io::{self, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::read::MultiGzDecoder;
use rdsguard_findings::{CheckMetadata, Finding, ResourceRef, Status, sort_findings};
use serde_json::{Value, json};

use crate::collect::{self, EventRecord, GroupKey, Groups, KeyRef};
use crate::detect::{self, Det, DetectConfig, Hit};
use crate::event::{EventView, HotFields};
use crate::extract::FieldPlan;
use crate::reader::{self, RawRecord, RecordReader};
use crate::sigma::{self, RuleProblem, SigmaSet};
use crate::summary::SummaryAcc;
use crate::timefmt::{Instant, parse_event_time};
use crate::{SkippedInput, TrailError, TrailOptions, TrailResult, TrailStats};

/// Compiled detections and settings, shared by all threads.
struct Engine {
    plan: Arc<FieldPlan>,
    hot: HotFields,
    detect_cfg: DetectConfig,
    sigma: SigmaSet,
    detections: Vec<CheckMetadata>,
    builtin_count: usize,
    rule_problems: Vec<RuleProblem>,
    since: Option<Instant>,
    until: Option<Instant>,
    trusted: BTreeSet<String>,
    burst_threshold: u64,
    burst_window: i64,
    max_events: usize,
    max_record: usize,
    threads: usize,
}

/// A configured scanner: built-in detections plus the loaded Sigma rules. Cheap to share
/// across threads (`&Scanner` is `Sync`).
pub struct Scanner {
    engine: Arc<Engine>,
}

/// Denied calls of one principal in one account, counted per second.
#[derive(Debug, Default)]
struct BurstTrack {
    /// second → (denied calls, earliest sample event of that second).
    seconds: BTreeMap<i64, (u64, EventRecord)>,
    region: String,
}

/// Per-thread scan state. Create one per worker with [`Scanner::accumulator`], feed it with
/// [`Scanner::scan_reader`] and hand them all to [`Scanner::finish`].
pub struct Accumulator {
    groups: Groups,
    bursts: HashMap<(String, String), BurstTrack>,
    summary: SummaryAcc,
    accounts: BTreeSet<String>,
    regions: BTreeSet<String>,
    stats: TrailStats,
    skipped: Vec<SkippedInput>,
    hits: Vec<Hit>,
    sigma_hits: Vec<usize>,
    lower_name: String,
    /// The read buffer, reused from one input to the next.
    buffer: Vec<u8>,
}

/// Per-input counters, to tell "not CloudTrail" and "empty" inputs apart.
#[derive(Default)]
struct InputCounts {
    values: u64,
    events: u64,
    non_cloudtrail: u64,
    digests: u64,
    /// An error inside a `Records` array read from memory.
    nested_error: Option<String>,
    /// Arrays of records seen (an empty `{"Records":[]}` is a valid, empty log).
    arrays: u64,
}

const MAX_DISTINCT_ACCOUNTS: usize = 100_000;

impl Scanner {
    /// Compiles the detections and loads the Sigma rules (a rule that cannot be used is
    /// listed in [`Scanner::rule_problems`], not an error).
    pub fn new(opts: &TrailOptions) -> Result<Scanner, TrailError> {
        if opts.burst_threshold == 0 {
            return Err(TrailError::InvalidOption(
                "burst threshold must be at least 1".into(),
            ));
        }
        if opts.burst_window.as_secs() == 0 {
            return Err(TrailError::InvalidOption(
                "burst window must be at least 1 second".into(),
            ));
        }
        if opts.max_record_bytes < 1024 || opts.max_record_bytes > u32::MAX as usize / 2 {
            return Err(TrailError::InvalidOption(
                "max record size must be between 1 KiB and 2 GiB".into(),
            ));
        }
        let since = opts.since.map(Instant::from_datetime);
        let until = opts.until.map(Instant::from_datetime);
        if let (Some(s), Some(u)) = (since, until)
            && s >= u
        {
            return Err(TrailError::InvalidOption(format!(
                "--since {} is not before --until {}",
                s.rfc3339(),
                u.rfc3339()
            )));
        }
        let mut plan = FieldPlan::default();
        let hot = HotFields::register(&mut plan);
        let (rules, rule_problems) = sigma::load_dirs(&opts.sigma_dirs, &mut plan)
            .map_err(|(path, source)| TrailError::SigmaDir { path, source })?;
        let mut detections = detect::catalogue();
        let builtin_count = detections.len();
        detections.extend(rules.iter().map(|r| r.meta.clone()));
        let threads = match opts.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        Ok(Scanner {
            engine: Arc::new(Engine {
                plan: Arc::new(plan),
                hot,
                detect_cfg: DetectConfig {
                    db_ports: opts.db_ports.clone(),
                },
                sigma: SigmaSet::new(rules),
                detections,
                builtin_count,
                rule_problems,
                since,
                until,
                trusted: opts.trusted_accounts.iter().cloned().collect(),
                burst_threshold: u64::from(opts.burst_threshold),
                burst_window: opts.burst_window.as_secs() as i64,
                max_events: opts.max_events_per_finding,
                max_record: opts.max_record_bytes,
                threads,
            }),
        })
    }

    /// Every detection that runs: built-ins, then the loaded Sigma rules.
    pub fn detections(&self) -> &[CheckMetadata] {
        &self.engine.detections
    }

    /// Sigma rules that could not be loaded.
    pub fn rule_problems(&self) -> &[RuleProblem] {
        &self.engine.rule_problems
    }

    /// A fresh per-thread accumulator.
    pub fn accumulator(&self) -> Accumulator {
        Accumulator {
            groups: Groups::default(),
            bursts: HashMap::new(),
            summary: SummaryAcc::default(),
            accounts: BTreeSet::new(),
            regions: BTreeSet::new(),
            stats: TrailStats::default(),
            skipped: Vec::new(),
            hits: Vec::new(),
            sigma_hits: Vec::new(),
            lower_name: String::new(),
            buffer: Vec::new(),
        }
    }

    /// Scans one stream (gzip is detected from its first bytes). Errors are recorded in the
    /// accumulator as a skipped input; the records read before the error are kept.
    pub fn scan_reader(&self, acc: &mut Accumulator, name: &str, reader: impl Read) {
        let input: Arc<str> = Arc::from(name);
        acc.stats.files += 1;
        let outcome = catch_unwind(AssertUnwindSafe(|| self.scan_stream(acc, &input, reader)));
        let (counts, error) = match outcome {
            Ok(r) => r,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                (
                    InputCounts::default(),
                    Some(format!(
                        "internal error while scanning (please report): {msg}"
                    )),
                )
            }
        };
        let reason = error.or_else(|| {
            if counts.events > 0 || counts.digests > 0 {
                None
            } else if counts.non_cloudtrail > 0 {
                Some(format!(
                    "not CloudTrail: {} JSON value(s), none looks like a CloudTrail event",
                    counts.non_cloudtrail
                ))
            } else if counts.values == 0 && counts.arrays == 0 {
                Some("empty: no JSON value".into())
            } else {
                None
            }
        });
        if let Some(reason) = reason {
            acc.stats.files_skipped += 1;
            acc.skipped.push(SkippedInput {
                input: name.to_string(),
                reason,
                records_before_error: counts.values,
            });
        }
    }

    fn scan_stream(
        &self,
        acc: &mut Accumulator,
        input: &Arc<str>,
        reader: impl Read,
    ) -> (InputCounts, Option<String>) {
        let mut counts = InputCounts::default();
        let mut counted = CountingReader {
            inner: reader,
            count: 0,
        };
        let stream = match open_stream(&mut counted) {
            Ok(s) => s,
            Err(e) => return (counts, Some(format!("cannot read: {e}"))),
        };
        let buffer = std::mem::take(&mut acc.buffer);
        let mut records =
            RecordReader::with_buffer(stream, &self.engine.plan, self.engine.max_record, buffer);
        let mut error = None;
        loop {
            match records.next_record() {
                Ok(Some(rec)) => self.process(acc, &rec, input, &mut counts),
                Ok(None) => break,
                Err(e) => {
                    error = Some(match &e {
                        reader::ReadError::Io { source, .. }
                            if source.kind() == io::ErrorKind::UnexpectedEof =>
                        {
                            format!("truncated compressed input: {e}")
                        }
                        _ => e.to_string(),
                    });
                    break;
                }
            }
        }
        acc.stats.bytes_uncompressed += records.bytes_read;
        counts.arrays = records.arrays;
        acc.buffer = records.into_buffer();
        if error.is_none() {
            error = counts.nested_error.take();
        }
        acc.stats.bytes_read += counted.count;
        (counts, error)
    }

    fn process(
        &self,
        acc: &mut Accumulator,
        rec: &RawRecord<'_>,
        input: &Arc<str>,
        counts: &mut InputCounts,
    ) {
        let eng = &*self.engine;
        counts.values += 1;
        acc.stats.records += 1;
        if let Some((start, len)) = rec.shape.records {
            let start = start as usize;
            let array = rec.bytes.get(start..start + len as usize).unwrap_or(&[]);
            // The nested array is read with its own reader; an error in it fails the input.
            if let Err(e) = reader::for_each_in_array(array, &eng.plan, eng.max_record, |r| {
                self.process(acc, &r, input, counts)
            }) && counts.nested_error.is_none()
            {
                counts.nested_error = Some(format!("in a Records array: {e}"));
            }
            return;
        }
        if !rec.shape.is_object {
            counts.non_cloudtrail += 1;
            acc.stats.non_cloudtrail_records += 1;
            return;
        }
        let ev = EventView::new(rec.bytes, rec.slots, &eng.hot);
        if !ev.is_cloudtrail() {
            if ev.is_digest() {
                counts.digests += 1;
                acc.stats.digest_records += 1;
            } else {
                counts.non_cloudtrail += 1;
                acc.stats.non_cloudtrail_records += 1;
            }
            return;
        }
        counts.events += 1;
        let time = ev.event_time().and_then(|t| parse_event_time(&t));
        if eng.since.is_some() || eng.until.is_some() {
            let Some(t) = time else {
                acc.stats.events_without_time += 1;
                return;
            };
            if eng.since.is_some_and(|s| t < s) || eng.until.is_some_and(|u| t >= u) {
                acc.stats.events_out_of_range += 1;
                return;
            }
        } else if time.is_none() {
            acc.stats.events_without_time += 1;
        }
        acc.stats.events += 1;

        let name = ev.event_name();
        let source = ev.event_source();
        let error_code = ev.error_code();
        let principal = ev.principal();
        let account = ev.recipient_account();
        let region = ev.region();
        if let Some(a) = &account
            && acc.accounts.len() < MAX_DISTINCT_ACCOUNTS
            && !acc.accounts.contains(a.as_ref())
        {
            acc.accounts.insert(a.to_string());
        }
        if let Some(r) = &region
            && acc.regions.len() < MAX_DISTINCT_ACCOUNTS
            && !acc.regions.contains(r.as_ref())
        {
            acc.regions.insert(r.to_string());
        }

        // Denied calls feed the burst detection.
        if let (Some(code), Some(t)) = (&error_code, time)
            && detect::is_denied(code)
            && detect::in_burst_scope(source.as_deref(), name.as_deref().unwrap_or(""))
        {
            let record = self.record(&ev, input, acc.stats.records, time, BTreeMap::new());
            let key = (
                principal.to_string(),
                account.as_deref().unwrap_or("unknown").to_string(),
            );
            let track = acc.bursts.entry(key).or_default();
            if track.region.is_empty() {
                track.region = region.as_deref().unwrap_or("").to_string();
            }
            let slot = track.seconds.entry(t.unix).or_insert((0, record.clone()));
            slot.0 += 1;
            if record.event_id < slot.1.event_id {
                slot.1 = record;
            }
        }

        let mut hits = std::mem::take(&mut acc.hits);
        let mut sigma_hits = std::mem::take(&mut acc.sigma_hits);
        hits.clear();
        sigma_hits.clear();
        detect::detect(&ev, &eng.detect_cfg, &mut hits);
        eng.sigma
            .evaluate(&ev, &mut acc.lower_name, |i| sigma_hits.push(i));
        let flagged = !hits.is_empty() || !sigma_hits.is_empty();
        acc.summary.add(
            &principal,
            source.as_deref().unwrap_or(""),
            name.as_deref().unwrap_or(""),
            time.map(|t| t.unix.div_euclid(3600)),
            error_code.is_some(),
            flagged,
        );
        if flagged {
            let account = account.as_deref().unwrap_or("unknown");
            let region = region.as_deref().unwrap_or("");
            let event_id = ev.event_id();
            let ordinal = acc.stats.records;
            let sort = collect::sort_key(time, event_id.as_deref(), input, ordinal);
            for hit in hits.drain(..) {
                let key = KeyRef {
                    check: hit.det.index(),
                    resource_type: hit.resource_type,
                    resource_id: &hit.resource_id,
                    account,
                    region,
                    discriminator: &hit.discriminator,
                };
                let group = acc.groups.group(key, hit.severity);
                if group.resource_arn.is_none() {
                    group.resource_arn = hit.resource_arn.clone();
                }
                if group.unless_trusted.is_none() {
                    group.unless_trusted = hit.unless_trusted.clone();
                }
                let details = hit.details;
                group.offer(
                    sort,
                    time,
                    input,
                    eng.max_events,
                    || self.record(&ev, input, ordinal, time, details),
                    || hit.message,
                );
            }
            for &rule in &sigma_hits {
                let meta = &eng.sigma.rules[rule].meta;
                let key = KeyRef {
                    check: eng.builtin_count + rule,
                    resource_type: "AwsIamPrincipal",
                    resource_id: &principal,
                    account,
                    region,
                    discriminator: "",
                };
                acc.groups.group(key, meta.severity).offer(
                    sort,
                    time,
                    input,
                    eng.max_events,
                    || self.record(&ev, input, ordinal, time, BTreeMap::new()),
                    || {
                        format!(
                            "Sigma rule \"{}\" matched {} by {}",
                            meta.title,
                            name.as_deref().unwrap_or("an event"),
                            principal
                        )
                    },
                );
            }
        }
        acc.hits = hits;
        acc.sigma_hits = sigma_hits;
    }

    fn record(
        &self,
        ev: &EventView<'_>,
        input: &Arc<str>,
        ordinal: u64,
        time: Option<Instant>,
        details: BTreeMap<String, Value>,
    ) -> EventRecord {
        let own = |c: Option<std::borrow::Cow<'_, str>>| c.map(|c| c.into_owned());
        EventRecord {
            event_id: own(ev.event_id()),
            event_time: own(ev.event_time()),
            event_source: own(ev.event_source()),
            event_name: own(ev.event_name()),
            recipient_account_id: own(ev.recipient_account()),
            aws_region: own(ev.region()),
            principal: ev.principal().into_owned(),
            principal_type: own(ev.identity_type()),
            source_ip_address: own(ev.source_ip()),
            user_agent: own(ev.user_agent()),
            error_code: own(ev.error_code()),
            input: Arc::clone(input),
            details,
            time,
            ordinal,
        }
    }

    /// Scans files and directories on `opts.threads` threads.
    pub fn scan_paths(&self, inputs: &[PathBuf]) -> TrailResult {
        let mut walk = Walk::default();
        for input in inputs {
            walk.visit(input, true);
        }
        // Largest first, for a better balance between threads.
        walk.files
            .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let threads = self.engine.threads.clamp(1, walk.files.len().max(1));
        let next = AtomicUsize::new(0);
        let files = &walk.files;
        let mut accs: Vec<Accumulator> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut acc = self.accumulator();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some((path, _)) = files.get(i) else {
                                break;
                            };
                            self.scan_file(&mut acc, path);
                        }
                        acc
                    })
                })
                .collect();
            handles.into_iter().filter_map(|h| h.join().ok()).collect()
        });
        let mut first = self.accumulator();
        first.stats.files_ignored = walk.ignored;
        first.stats.files_skipped += walk.skipped.len() as u64;
        first.skipped.extend(walk.skipped);
        accs.push(first);
        self.finish(accs)
    }

    fn scan_file(&self, acc: &mut Accumulator, path: &Path) {
        let name = path.display().to_string();
        match File::open(path) {
            Ok(file) => self.scan_reader(acc, &name, file),
            Err(e) => {
                acc.stats.files_skipped += 1;
                acc.skipped.push(SkippedInput {
                    input: name,
                    reason: format!("cannot open: {e}"),
                    records_before_error: 0,
                });
            }
        }
    }

    /// Merges the accumulators and builds the findings, summary and statistics.
    pub fn finish(&self, accs: Vec<Accumulator>) -> TrailResult {
        let eng = &*self.engine;
        let mut total = self.accumulator();
        for acc in accs {
            total.groups.merge(acc.groups, eng.max_events);
            for (key, track) in acc.bursts {
                let mine = total.bursts.entry(key).or_default();
                if mine.region.is_empty() {
                    mine.region = track.region;
                }
                for (sec, (n, sample)) in track.seconds {
                    let slot = mine.seconds.entry(sec).or_insert((0, sample.clone()));
                    slot.0 += n;
                    if sample.event_id < slot.1.event_id {
                        slot.1 = sample;
                    }
                }
            }
            total.summary.merge(acc.summary);
            total.accounts.extend(acc.accounts);
            total.regions.extend(acc.regions);
            add_stats(&mut total.stats, &acc.stats);
            total.skipped.extend(acc.skipped);
        }
        self.bursts_to_groups(&mut total);

        let mut trusted = eng.trusted.clone();
        trusted.extend(total.accounts.iter().cloned());
        let mut findings = Vec::new();
        let mut entries = total.groups.into_entries();
        // A total order first, so that ties in the canonical order below do not depend on
        // which thread saw what.
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, group) in entries {
            if group
                .unless_trusted
                .as_ref()
                .is_some_and(|a| trusted.contains(a))
            {
                continue;
            }
            findings.push(self.finding(&key, &group));
        }
        sort_findings(&mut findings);
        total.skipped.sort_by(|a, b| a.input.cmp(&b.input));
        TrailResult {
            findings,
            detections: eng.detections.clone(),
            skipped_inputs: total.skipped,
            rule_problems: eng.rule_problems.clone(),
            summary: total.summary.finish(),
            stats: total.stats,
            accounts: total.accounts.into_iter().collect(),
            regions: total.regions.into_iter().collect(),
        }
    }

    /// Turns the per-second counts of denied calls into burst findings: every maximal period
    /// covered by windows holding at least the threshold.
    fn bursts_to_groups(&self, total: &mut Accumulator) {
        let eng = &*self.engine;
        let bursts = std::mem::take(&mut total.bursts);
        for ((principal, account), track) in bursts {
            let secs: Vec<(i64, u64)> = track.seconds.iter().map(|(s, (n, _))| (*s, *n)).collect();
            let mut periods: Vec<(i64, i64)> = Vec::new();
            let mut end = 0;
            let mut in_window = 0u64;
            for i in 0..secs.len() {
                while end < secs.len() && secs[end].0 < secs[i].0 + eng.burst_window {
                    in_window += secs[end].1;
                    end += 1;
                }
                if in_window >= eng.burst_threshold {
                    let period = (secs[i].0, secs[end - 1].0);
                    match periods.last_mut() {
                        Some(last) if period.0 <= last.1 => last.1 = last.1.max(period.1),
                        _ => periods.push(period),
                    }
                }
                in_window -= secs[i].1;
            }
            for (start, stop) in periods {
                let mut denied = 0;
                let key = GroupKey {
                    check: Det::AccessDeniedBurst.index(),
                    resource_type: "AwsIamPrincipal",
                    resource_id: principal.clone(),
                    account: account.clone(),
                    region: track.region.clone(),
                    discriminator: Instant {
                        unix: start,
                        nanos: 0,
                    }
                    .rfc3339(),
                };
                for (_, (n, sample)) in track.seconds.range(start..=stop) {
                    denied += n;
                    let sort = collect::sort_key(
                        sample.time,
                        sample.event_id.as_deref(),
                        &sample.input,
                        sample.ordinal,
                    );
                    total
                        .groups
                        .group(
                            KeyRef {
                                check: key.check,
                                resource_type: key.resource_type,
                                resource_id: &key.resource_id,
                                account: &key.account,
                                region: &key.region,
                                discriminator: &key.discriminator,
                            },
                            detect::default_severity(Det::AccessDeniedBurst),
                        )
                        .offer(
                            sort,
                            sample.time,
                            &sample.input,
                            eng.max_events,
                            || sample.clone(),
                            String::new,
                        );
                }
                if let Some(group) = total.groups.get_mut(&key) {
                    // Count every denied call, not only the per-second samples.
                    group.count = denied;
                    group.message = format!(
                        "{denied} denied RDS/KMS/security-group calls by {principal} between {} and {} (threshold {} within {} s)",
                        Instant {
                            unix: start,
                            nanos: 0
                        }
                        .rfc3339(),
                        Instant {
                            unix: stop,
                            nanos: 0
                        }
                        .rfc3339(),
                        eng.burst_threshold,
                        eng.burst_window
                    );
                }
            }
        }
    }

    fn finding(&self, key: &GroupKey, group: &crate::collect::Group) -> Finding {
        let eng = &*self.engine;
        let meta = &eng.detections[key.check];
        let events = group.events();
        let mut evidence = BTreeMap::new();
        evidence.insert("event_count".to_string(), json!(group.count));
        if let Some(t) = group.first {
            evidence.insert("first_seen".into(), json!(t.rfc3339()));
        }
        if let Some(t) = group.last {
            evidence.insert("last_seen".into(), json!(t.rfc3339()));
        }
        if (events.len() as u64) < group.count {
            evidence.insert("events_shown".into(), json!(events.len()));
        }
        evidence.insert(
            "events".into(),
            serde_json::to_value(&events).unwrap_or(Value::Null),
        );
        if key.check >= eng.builtin_count {
            let rule = &eng.sigma.rules[key.check - eng.builtin_count];
            evidence.insert("sigma_rule_author".into(), json!(rule.author));
            evidence.insert(
                "sigma_rule_file".into(),
                json!(rule.file.display().to_string()),
            );
        } else if key.check == Det::AccessDeniedBurst.index() {
            evidence.insert("threshold".into(), json!(eng.burst_threshold));
            evidence.insert("window_seconds".into(), json!(eng.burst_window));
        }
        let message = if group.count > 1 && key.check != Det::AccessDeniedBurst.index() {
            format!("{} (and {} more event(s))", group.message, group.count - 1)
        } else {
            group.message.clone()
        };
        Finding {
            check_id: meta.id.clone().into(),
            title: meta.title.clone().into(),
            severity: group.severity,
            status: Status::Fail,
            resource: ResourceRef {
                resource_type: key.resource_type.to_string().into(),
                id: key.resource_id.clone(),
                arn: group.resource_arn.clone(),
                account_id: key.account.clone().into(),
                region: (!key.region.is_empty()).then(|| key.region.clone().into()),
            }
            .into(),
            message: message.into(),
            evidence: evidence.into(),
            suppressed: None,
        }
    }
}

fn add_stats(total: &mut TrailStats, s: &TrailStats) {
    total.files += s.files;
    total.files_skipped += s.files_skipped;
    total.files_ignored += s.files_ignored;
    total.records += s.records;
    total.events += s.events;
    total.events_out_of_range += s.events_out_of_range;
    total.events_without_time += s.events_without_time;
    total.non_cloudtrail_records += s.non_cloudtrail_records;
    total.digest_records += s.digest_records;
    total.bytes_uncompressed += s.bytes_uncompressed;
    total.bytes_read += s.bytes_read;
}

/// Counts the bytes read from the underlying input.
struct CountingReader<R> {
    inner: R,
    count: u64,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count += n as u64;
        Ok(n)
    }
}

/// Wraps `src` in a gzip decoder when it starts with the gzip magic bytes.
fn open_stream<'r>(src: &'r mut (impl Read + 'r)) -> io::Result<Box<dyn Read + 'r>> {
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < magic.len() {
        match src.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    let head = io::Cursor::new(magic[..got].to_vec());
    let chained = head.chain(src);
    if got == 2 && magic == [0x1f, 0x8b] {
        Ok(Box::new(MultiGzDecoder::new(chained)))
    } else {
        Ok(Box::new(chained))
    }
}

/// Files to scan, found by walking the inputs.
#[derive(Default)]
struct Walk {
    files: Vec<(PathBuf, u64)>,
    skipped: Vec<SkippedInput>,
    ignored: u64,
}

/// Names of log files picked up in directories (explicit file arguments are always read).
fn looks_like_log(name: &str) -> bool {
    let base = name.strip_suffix(".gz").unwrap_or(name);
    base.ends_with(".json") || base.ends_with(".jsonl") || base.ends_with(".ndjson")
}

impl Walk {
    fn visit(&mut self, path: &Path, explicit: bool) {
        let meta = match if explicit {
            std::fs::metadata(path)
        } else {
            std::fs::symlink_metadata(path)
        } {
            Ok(m) => m,
            Err(e) => {
                self.skipped.push(SkippedInput {
                    input: path.display().to_string(),
                    reason: format!("cannot read: {e}"),
                    records_before_error: 0,
                });
                return;
            }
        };
        if meta.is_dir() {
            let mut entries: Vec<PathBuf> = match std::fs::read_dir(path) {
                Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
                Err(e) => {
                    self.skipped.push(SkippedInput {
                        input: path.display().to_string(),
                        reason: format!("cannot list directory: {e}"),
                        records_before_error: 0,
                    });
                    return;
                }
            };
            entries.sort();
            for entry in entries {
                let name = entry.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name == "CloudTrail-Digest" {
                    self.ignored += 1;
                    continue;
                }
                self.visit(&entry, false);
            }
        } else if meta.file_type().is_symlink() {
            // Followed only when the target is a log file (directory links could loop).
            match std::fs::metadata(path) {
                Ok(m) if m.is_file() && name_of(path).is_some_and(looks_like_log) => {
                    self.files.push((path.to_path_buf(), m.len()));
                }
                _ => self.ignored += 1,
            }
        } else if meta.is_file() {
            if explicit || name_of(path).is_some_and(looks_like_log) {
                self.files.push((path.to_path_buf(), meta.len()));
            } else {
                self.ignored += 1;
            }
        } else {
            self.ignored += 1;
        }
    }
}

fn name_of(path: &Path) -> Option<&str> {
    path.file_name().and_then(|n| n.to_str())
}
