//! Custom rdsguard checks written in Rego (Open Policy Agent's policy language), evaluated
//! with the `regorus` interpreter over the snapshot JSON.
//!
//! Each `.rego` file that is a check declares, in its own package:
//!
//! * `metadata := {...}`: the same metadata as a built-in check (`id`, `title`, `severity`,
//!   `resource_type`, `description`, `remediation`, optional `rationale`, `cis`, `fsbp`,
//!   `mitre_attack`, and `depends_on`: the collector operations it reads, as
//!   `"rds:DescribeDBInstances"`);
//! * `results contains r if {...}`: one object per resource, `{"status", "resource",
//!   "message", "evidence"?, "severity"?}` with `status` PASS, FAIL, NOT_ASSESSED or
//!   NOT_APPLICABLE and `resource` `{"id", "account_id", "region"?, "arn"?, "resource_type"?}`.
//!
//! Files with neither rule are helper libraries. `data.rdsguard.lib` (src/lib.rego) is always
//! loaded. Results become [`Finding`]s of the one finding model, with the same guarantees as the
//! built-in engine: when an operation in `depends_on` failed for a whole region (or account),
//! that scope's results are replaced by one NOT_ASSESSED result naming the gap; disabled checks
//! and suppressions from `rdsguard.toml` apply. Errors in user policies (syntax, evaluation,
//! metadata, malformed results) are reported with the file and line.
//!
//! The snapshot is converted to a Rego value once per evaluation, shared by every check.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rdsguard_checks::Config;
use rdsguard_checks::apply_suppressions;
use rdsguard_findings::{CheckMetadata, Compliance, Finding, ResourceRef, Severity, Status};
use rdsguard_model::{Snapshot, ops};
use serde_json::Value as Json;
use time::OffsetDateTime;

/// The helper library every policy can import as `data.rdsguard.lib`.
pub const LIBRARY: &str = include_str!("lib.rego");
const LIBRARY_PATH: &str = "<rdsguard>/lib.rego";

/// An error in custom checks: where it is and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum RegoError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A problem in a user policy; `line` when it can be located.
    #[error("{}{}: {message}", path.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Policy {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("no .rego file found in {}", .0.display())]
    NoPolicies(PathBuf),
    #[error("cannot give the snapshot to Rego: {0}")]
    Input(String),
}

impl RegoError {
    fn policy(path: &Path, line: Option<usize>, message: impl Into<String>) -> RegoError {
        RegoError::Policy {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }
}

/// One custom check.
#[derive(Debug, Clone)]
struct RegoCheck {
    meta: CheckMetadata,
    /// `(service, operation)` pairs, validated against the collector's operations.
    depends_on: Vec<(String, String)>,
    path: PathBuf,
    /// e.g. `data.rdsguard.custom.owner_tag`
    package: String,
    results_line: Option<usize>,
}

/// Custom checks loaded from `.rego` files, ready to evaluate.
pub struct RuleSet {
    engine: regorus::Engine,
    checks: Vec<RegoCheck>,
}

impl std::fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleSet")
            .field("checks", &self.checks)
            .finish()
    }
}

/// The line (1-based) of the first rule definition named `name` in `text`.
fn rule_line(text: &str, name: &str) -> Option<usize> {
    text.lines()
        .position(|l| {
            l.trim_start().strip_prefix(name).is_some_and(|rest| {
                rest.starts_with([' ', '\t', ':', '=', '[', '{']) || rest.is_empty()
            })
        })
        .map(|i| i + 1)
}

/// A regorus error as `(line, "what is wrong\n<source excerpt>")`: regorus writes the
/// location and excerpt first and the reason last; users read the reason first.
fn regorus_error(message: &str, path: &str) -> (Option<usize>, String) {
    let line = error_line(message, path);
    let trimmed = message.trim();
    match trimmed.rfind("error: ") {
        Some(i) if i > 0 => {
            let reason = trimmed[i + "error: ".len()..].trim();
            let excerpt = trimmed[..i].trim_end();
            (line, format!("{reason}\n{excerpt}"))
        }
        _ => (line, trimmed.to_string()),
    }
}

/// The line of a regorus error message (`--> file:LINE:COL` or `file:LINE:COL:`), if any.
fn error_line(message: &str, path: &str) -> Option<usize> {
    let after = message.split(path).nth(1)?;
    let digits: String = after
        .strip_prefix(':')?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

fn collect_rego_files(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), RegoError> {
    let meta = std::fs::metadata(path).map_err(|source| RegoError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let entries = std::fs::read_dir(path).map_err(|source| RegoError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut children: Vec<PathBuf> = Vec::new();
    for e in entries {
        let e = e.map_err(|source| RegoError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        children.push(e.path());
    }
    children.sort();
    for child in children {
        let name = child.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if child.is_dir() {
            collect_rego_files(&child, out)?;
        } else if name.ends_with(".rego") && !name.ends_with("_test.rego") {
            out.push(child);
        }
    }
    Ok(())
}

impl RuleSet {
    /// Load every `.rego` file under the given files or directories (recursively; files ending
    /// in `_test.rego` are OPA unit tests and skipped).
    pub fn load(paths: &[PathBuf]) -> Result<RuleSet, RegoError> {
        let mut sources = Vec::new();
        for p in paths {
            let mut files = Vec::new();
            collect_rego_files(p, &mut files)?;
            if files.is_empty() {
                return Err(RegoError::NoPolicies(p.clone()));
            }
            for f in files {
                let text = std::fs::read_to_string(&f).map_err(|source| RegoError::Io {
                    path: f.clone(),
                    source,
                })?;
                sources.push((f, text));
            }
        }
        RuleSet::from_sources(sources)
    }

    /// Load policies from `(path, text)` pairs (the path names them in errors).
    pub fn from_sources(sources: Vec<(PathBuf, String)>) -> Result<RuleSet, RegoError> {
        let mut engine = regorus::Engine::new();
        engine
            .add_policy(LIBRARY_PATH.to_string(), LIBRARY.to_string())
            .map_err(|e| RegoError::policy(Path::new(LIBRARY_PATH), None, e.to_string()))?;
        let mut parsed = Vec::new();
        for (path, text) in sources {
            let name = path.display().to_string();
            let package = engine.add_policy(name.clone(), text.clone()).map_err(|e| {
                let (line, msg) = regorus_error(&e.to_string(), &name);
                RegoError::policy(&path, line, msg)
            })?;
            parsed.push((path, text, package));
        }
        let known_ops: BTreeSet<(String, String)> = ops::ALL
            .iter()
            .map(|o| (o.service.to_string(), o.operation.to_string()))
            .collect();
        let mut checks: Vec<RegoCheck> = Vec::new();
        let mut packages: BTreeMap<String, PathBuf> = BTreeMap::new();
        for (path, text, package) in parsed {
            let package = if package.starts_with("data.") {
                package
            } else {
                format!("data.{package}")
            };
            let metadata_line = rule_line(&text, "metadata");
            let results_line = rule_line(&text, "results");
            if metadata_line.is_none() && results_line.is_none() {
                continue; // a helper library
            }
            if let Some(other) = packages.insert(package.clone(), path.clone()) {
                return Err(RegoError::policy(
                    &path,
                    rule_line(&text, "package"),
                    format!(
                        "package {package} is also used by {}: give each check its own package",
                        other.display()
                    ),
                ));
            }
            let Some(_) = metadata_line else {
                return Err(RegoError::policy(
                    &path,
                    results_line,
                    "`results` without `metadata`: declare metadata := {\"id\": ..., \"title\": ..., \"severity\": ..., \"resource_type\": ..., \"description\": ..., \"remediation\": ...}",
                ));
            };
            if results_line.is_none() {
                return Err(RegoError::policy(
                    &path,
                    metadata_line,
                    "`metadata` without `results`: declare `results contains r if { ... }`",
                ));
            }
            let value = engine
                .eval_rule(format!("{package}.metadata"))
                .map_err(|e| {
                    let (line, msg) = regorus_error(&e.to_string(), &path.display().to_string());
                    RegoError::policy(&path, line.or(metadata_line), msg)
                })?;
            let json = serde_json::to_value(&value)
                .map_err(|e| RegoError::policy(&path, metadata_line, e.to_string()))?;
            let (meta, depends_on) = parse_metadata(&json, &known_ops)
                .map_err(|m| RegoError::policy(&path, metadata_line, format!("metadata: {m}")))?;
            if let Some(dup) = checks.iter().find(|c| c.meta.id == meta.id) {
                return Err(RegoError::policy(
                    &path,
                    metadata_line,
                    format!(
                        "check id `{}` is also declared in {}",
                        meta.id,
                        dup.path.display()
                    ),
                ));
            }
            checks.push(RegoCheck {
                meta,
                depends_on,
                path,
                package,
                results_line,
            });
        }
        Ok(RuleSet { engine, checks })
    }

    /// Metadata of every custom check, in load order.
    pub fn metadata(&self) -> Vec<CheckMetadata> {
        self.checks.iter().map(|c| c.meta.clone()).collect()
    }

    /// Keep only the checks `keep` accepts (`--check` patterns).
    pub fn retain_checks(&mut self, keep: impl Fn(&CheckMetadata) -> bool) {
        self.checks.retain(|c| keep(&c.meta));
    }

    /// Refuse custom check ids that collide with `ids` (the built-in catalogue).
    pub fn ensure_distinct_from<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), RegoError> {
        let ids: BTreeSet<&str> = ids.into_iter().collect();
        match self
            .checks
            .iter()
            .find(|c| ids.contains(c.meta.id.as_str()))
        {
            Some(c) => Err(RegoError::policy(
                &c.path,
                None,
                format!(
                    "check id `{}` is a built-in check's id: choose another",
                    c.meta.id
                ),
            )),
            None => Ok(()),
        }
    }

    /// Evaluate every custom check on the snapshot at time `now` (for suppression expiry).
    pub fn evaluate(
        &mut self,
        snapshot: &Snapshot,
        config: &Config,
        now: OffsetDateTime,
    ) -> Result<Vec<Finding>, RegoError> {
        let text = serde_json::to_string(snapshot).map_err(|e| RegoError::Input(e.to_string()))?;
        let input =
            regorus::Value::from_json_str(&text).map_err(|e| RegoError::Input(e.to_string()))?;
        self.engine.set_input(input);
        let mut out = Vec::new();
        for check in &self.checks {
            if config.disabled_checks.contains(&check.meta.id) {
                continue;
            }
            let value = self
                .engine
                .eval_rule(format!("{}.results", check.package))
                .map_err(|e| {
                    let (line, msg) =
                        regorus_error(&e.to_string(), &check.path.display().to_string());
                    RegoError::policy(&check.path, line.or(check.results_line), msg)
                })?;
            let json = serde_json::to_value(&value)
                .map_err(|e| RegoError::policy(&check.path, check.results_line, e.to_string()))?;
            let results = match json {
                Json::Array(items) => items,
                Json::Null => Vec::new(),
                Json::String(s) if s == "<undefined>" => Vec::new(),
                other => {
                    return Err(RegoError::policy(
                        &check.path,
                        check.results_line,
                        format!("`results` must be a set of objects, got {}", brief(&other)),
                    ));
                }
            };
            let mut findings = Vec::with_capacity(results.len());
            for (i, r) in results.iter().enumerate() {
                let f = to_finding(&check.meta, r).map_err(|m| {
                    RegoError::policy(
                        &check.path,
                        check.results_line,
                        format!("result {} ({}): {m}", i + 1, brief(r)),
                    )
                })?;
                findings.push(f);
            }
            apply_gaps(check, snapshot, &mut findings);
            out.extend(findings);
        }
        apply_suppressions(&mut out, config, now);
        Ok(out)
    }
}

/// A short rendering of a JSON value for error messages.
fn brief(v: &Json) -> String {
    let s = v.to_string();
    if s.len() > 200 {
        let mut end = 200;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    } else {
        s
    }
}

fn string_list(v: &Json, field: &str) -> Result<Vec<String>, String> {
    match v.get(field) {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| format!("`{field}` must be a list of strings"))
            })
            .collect(),
        Some(_) => Err(format!("`{field}` must be a list of strings")),
    }
}

fn parse_metadata(
    v: &Json,
    known_ops: &BTreeSet<(String, String)>,
) -> Result<(CheckMetadata, Vec<(String, String)>), String> {
    if !v.is_object() {
        return Err(format!("must be an object, got {}", brief(v)));
    }
    let text = |field: &str, required: bool| -> Result<String, String> {
        match v.get(field) {
            Some(Json::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
            None | Some(Json::Null) if !required => Ok(String::new()),
            None => Err(format!("`{field}` is required")),
            Some(other) => Err(format!(
                "`{field}` must be a non-empty string, got {}",
                brief(other)
            )),
        }
    };
    let id = text("id", true)?;
    if !id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err(format!(
            "`id` `{id}` must be lowercase letters, digits and underscores (it is a stable identifier)"
        ));
    }
    let severity: Severity = text("severity", true)?.parse()?;
    let known = [
        "id",
        "title",
        "severity",
        "resource_type",
        "description",
        "rationale",
        "remediation",
        "cis",
        "fsbp",
        "mitre_attack",
        "depends_on",
    ];
    if let Some(obj) = v.as_object()
        && let Some(unknown) = obj.keys().find(|k| !known.contains(&k.as_str()))
    {
        return Err(format!(
            "unknown field `{unknown}` (known: {})",
            known.join(", ")
        ));
    }
    let mut depends_on = Vec::new();
    for d in string_list(v, "depends_on")? {
        let Some((service, operation)) = d.split_once(':') else {
            return Err(format!(
                "`depends_on` entry `{d}` must be service:Operation, e.g. rds:DescribeDBInstances"
            ));
        };
        let pair = (service.to_string(), operation.to_string());
        if !known_ops.contains(&pair) {
            return Err(format!(
                "`depends_on` names `{d}`, which rdsguard does not collect (see `rdsguard collect` operations)"
            ));
        }
        depends_on.push(pair);
    }
    Ok((
        CheckMetadata {
            id,
            title: text("title", true)?,
            severity,
            resource_type: text("resource_type", true)?,
            description: text("description", true)?,
            rationale: text("rationale", false)?,
            remediation: text("remediation", true)?,
            compliance: Compliance {
                cis: string_list(v, "cis")?,
                fsbp: string_list(v, "fsbp")?,
                mitre_attack: string_list(v, "mitre_attack")?,
            },
        },
        depends_on,
    ))
}

fn to_finding(meta: &CheckMetadata, r: &Json) -> Result<Finding, String> {
    if !r.is_object() {
        return Err("each result must be an object".into());
    }
    let status = match r
        .get("status")
        .and_then(Json::as_str)
        .map(str::to_ascii_uppercase)
    {
        Some(s) if s == "PASS" => Status::Pass,
        Some(s) if s == "FAIL" => Status::Fail,
        Some(s) if s == "NOT_ASSESSED" => Status::NotAssessed,
        Some(s) if s == "NOT_APPLICABLE" => Status::NotApplicable,
        _ => {
            return Err("`status` must be PASS, FAIL, NOT_ASSESSED or NOT_APPLICABLE".into());
        }
    };
    let res = r
        .get("resource")
        .filter(|v| v.is_object())
        .ok_or("`resource` must be an object {\"id\", \"account_id\", \"region\"?, \"arn\"?}")?;
    let field = |name: &str| res.get(name).and_then(Json::as_str).map(str::to_string);
    let id = field("id")
        .filter(|s| !s.is_empty())
        .ok_or("`resource.id` is required")?;
    let account_id = field("account_id")
        .filter(|s| !s.is_empty())
        .ok_or("`resource.account_id` is required")?;
    let message = r
        .get("message")
        .and_then(Json::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or("`message` is required (one sentence saying what was found)")?
        .to_string();
    let evidence: BTreeMap<String, Json> = match r.get("evidence") {
        None | Some(Json::Null) => BTreeMap::new(),
        Some(Json::Object(m)) => m.clone().into_iter().collect(),
        Some(_) => return Err("`evidence` must be an object".into()),
    };
    let severity = match r.get("severity") {
        None | Some(Json::Null) => meta.severity,
        Some(Json::String(s)) => s.parse()?,
        Some(_) => return Err("`severity` must be a string".into()),
    };
    Ok(Finding {
        check_id: meta.id.clone().into(),
        title: meta.title.clone().into(),
        severity,
        status,
        resource: ResourceRef {
            resource_type: field("resource_type")
                .unwrap_or_else(|| meta.resource_type.clone())
                .into(),
            id,
            arn: field("arn"),
            account_id: account_id.into(),
            region: field("region").map(Into::into),
        }
        .into(),
        message: message.into(),
        evidence: evidence.into(),
        suppressed: None,
    })
}

/// Replace the results of scopes whose data is missing with one NOT_ASSESSED result each, as
/// the built-in engine does: a check never passes on data that was not collected.
fn apply_gaps(check: &RegoCheck, snapshot: &Snapshot, findings: &mut Vec<Finding>) {
    if check.depends_on.is_empty() {
        return;
    }
    let matches = |g: &rdsguard_model::Gap| {
        g.resource.is_none()
            && check
                .depends_on
                .iter()
                .any(|(s, o)| g.service == *s && g.operation == *o)
    };
    let not_assessed = |account: &str, region: Option<&str>, reason: String| Finding {
        check_id: check.meta.id.clone().into(),
        title: check.meta.title.clone().into(),
        severity: check.meta.severity,
        status: Status::NotAssessed,
        resource: ResourceRef {
            resource_type: check.meta.resource_type.clone().into(),
            id: match region {
                Some(r) => format!("all {} in {r}", check.meta.resource_type),
                None => format!("all {} in account", check.meta.resource_type),
            },
            arn: None,
            account_id: account.to_string().into(),
            region: region.map(|r| r.to_string().into()),
        }
        .into(),
        message: reason.into(),
        evidence: Default::default(),
        suppressed: None,
    };
    let mut added = Vec::new();
    for account in &snapshot.accounts {
        if let Some(g) = account.gaps.iter().find(|g| matches(g)) {
            findings.retain(|f| f.resource.account_id != account.account_id);
            added.push(not_assessed(&account.account_id, None, g.describe()));
            continue;
        }
        for region in &account.regions {
            if let Some(g) = region.gaps.iter().find(|g| matches(g)) {
                findings.retain(|f| {
                    !(f.resource.account_id == account.account_id
                        && f.resource.region.as_deref() == Some(region.region.as_str()))
                });
                added.push(not_assessed(
                    &account.account_id,
                    Some(&region.region),
                    g.describe(),
                ));
            }
        }
    }
    findings.extend(added);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rule_lines() {
        let text = "package x\n\nimport rego.v1\n\nmetadata := {}\n\nresults contains r if {\n}\n";
        assert_eq!(rule_line(text, "metadata"), Some(5));
        assert_eq!(rule_line(text, "results"), Some(7));
        assert_eq!(rule_line(text, "metadatas"), None);
        assert_eq!(rule_line("metadata_x := 1\n", "metadata"), None);
    }

    #[test]
    fn regorus_errors_read_reason_first() {
        let msg =
            "\n--> p/a.rego:6:1\n  |\n6 | }\n  | ^\nerror: expecting `:` while parsing object item";
        let (line, text) = regorus_error(msg, "p/a.rego");
        assert_eq!(line, Some(6));
        assert!(
            text.starts_with("expecting `:` while parsing object item\n--> p/a.rego:6:1"),
            "{text}"
        );
    }

    #[test]
    fn finds_error_lines() {
        assert_eq!(
            error_line("error: x\n --> p/a.rego:12:4\n", "p/a.rego"),
            Some(12)
        );
        assert_eq!(error_line("p/a.rego:3:1: error", "p/a.rego"), Some(3));
        assert_eq!(error_line("no location", "p/a.rego"), None);
    }
}
