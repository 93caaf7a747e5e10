//! Native Sigma rules for CloudTrail: loading (YAML, with parser budgets), compiling the
//! detection section, and evaluating rules on events.
//!
//! Supported: selections as maps (AND of fields) and lists of maps (OR), keyword lists
//! (matched, with `contains` semantics, against every value of the event), dotted field paths,
//! the modifiers `contains`, `startswith`, `endswith`, `all`, `re` (with `i`, `m`, `s`),
//! `cidr`, `exists`, `cased`, `fieldref`, `gt`/`gte`/`lt`/`lte`, `null` values, and conditions
//! with `and`/`or`/`not`/parentheses/`1 of`/`all of`/`them`. Anything else (aggregations,
//! `timeframe`, correlation rules, `base64*`, `windash`, `utf16*`, `expand`...) makes the
//! rule a [`RuleProblem`]: it is reported and not evaluated, never silently skipped.
//!
//! Each loaded rule gets an index entry on the `eventName` values it requires (when its
//! condition implies one), so that an event is only tested against the rules that can match
//! it.

pub(crate) mod condition;
pub(crate) mod matcher;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use rdsguard_findings::{CheckMetadata, Compliance, Severity};
use serde_json::Value;

use crate::event::{EventView, FieldPath, Looked, scalar_text};
use crate::extract::FieldPlan;
use condition::Cond;
use matcher::{CmpOp, FieldValue, Matcher, Pattern, Placement, RefKind};

/// A Sigma rule that could not be loaded, or uses a feature this evaluator does not support.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RuleProblem {
    /// The rule's `id`, or its file name when the id could not be read.
    pub rule: String,
    pub file: PathBuf,
    /// The unsupported feature or the reason it could not be loaded.
    pub reason: String,
}

/// Largest rule file read (SigmaHQ rules are a few KB).
const MAX_RULE_BYTES: u64 = 1 << 20;

/// Where a field test looks.
#[derive(Debug, Clone)]
enum Target {
    Field(FieldPath),
    /// Keyword search: any value of the event.
    AnyValue,
}

#[derive(Debug, Clone)]
struct FieldTest {
    target: Target,
    matchers: Vec<Matcher>,
    /// `all` modifier: every matcher must match (otherwise any).
    all: bool,
}

#[derive(Debug, Clone)]
enum Selection {
    /// A map: every test must match.
    AllOf(Vec<FieldTest>),
    /// A list of maps: one of them must match.
    AnyOf(Vec<Vec<FieldTest>>),
}

/// A compiled Sigma rule.
#[derive(Debug, Clone)]
pub(crate) struct SigmaRule {
    pub(crate) meta: CheckMetadata,
    pub(crate) author: String,
    pub(crate) file: PathBuf,
    selections: Vec<Selection>,
    condition: Cond,
    /// Lower-cased `eventName` values the rule requires, when its condition implies one.
    prefilter: Option<BTreeSet<String>>,
}

/// All loaded rules and their `eventName` index.
#[derive(Debug, Default)]
pub(crate) struct SigmaSet {
    pub(crate) rules: Vec<SigmaRule>,
    by_event_name: HashMap<String, Vec<usize>>,
    unindexed: Vec<usize>,
}

impl SigmaSet {
    pub(crate) fn new(rules: Vec<SigmaRule>) -> SigmaSet {
        let mut by_event_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut unindexed = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            match &rule.prefilter {
                Some(names) => {
                    for name in names {
                        by_event_name.entry(name.clone()).or_default().push(i);
                    }
                }
                None => unindexed.push(i),
            }
        }
        SigmaSet {
            rules,
            by_event_name,
            unindexed,
        }
    }

    /// Calls `hit` with the index of every rule that matches the event. `lower_name` is a
    /// scratch buffer.
    pub(crate) fn evaluate(
        &self,
        ev: &EventView<'_>,
        lower_name: &mut String,
        mut hit: impl FnMut(usize),
    ) {
        if self.rules.is_empty() {
            return;
        }
        lower_name.clear();
        if let Some(name) = ev.event_name() {
            if name.is_ascii() {
                lower_name.push_str(&name);
                lower_name.make_ascii_lowercase();
            } else {
                lower_name.extend(name.chars().flat_map(char::to_lowercase));
            }
        }
        let indexed = self
            .by_event_name
            .get(lower_name.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        for &i in indexed.iter().chain(self.unindexed.iter()) {
            if self.rules[i].matches(ev) {
                hit(i);
            }
        }
    }
}

impl SigmaRule {
    /// Evaluates the rule on one event.
    pub(crate) fn matches(&self, ev: &EventView<'_>) -> bool {
        // Selection results, memoised (on the stack for the usual handful of selections).
        let mut small = [None; 16];
        let mut large = Vec::new();
        let memo: &mut [Option<bool>] = if self.selections.len() <= small.len() {
            &mut small[..]
        } else {
            large.resize(self.selections.len(), None);
            &mut large[..]
        };
        self.condition.eval(&mut |i| {
            if let Some(known) = memo[i] {
                return known;
            }
            let result = eval_selection(&self.selections[i], ev);
            memo[i] = Some(result);
            result
        })
    }
}

fn eval_selection(sel: &Selection, ev: &EventView<'_>) -> bool {
    match sel {
        Selection::AllOf(tests) => tests.iter().all(|t| eval_test(t, ev)),
        Selection::AnyOf(maps) => maps
            .iter()
            .any(|tests| tests.iter().all(|t| eval_test(t, ev))),
    }
}

fn eval_test(test: &FieldTest, ev: &EventView<'_>) -> bool {
    let mut resolve = |path: &FieldPath| -> Option<String> {
        match ev.lookup(path) {
            Looked::Token(t) => scalar_text(t).map(|c| c.into_owned()),
            Looked::Value(v) => crate::event::value_text(&v).map(|c| c.into_owned()),
            Looked::Absent => None,
        }
    };
    match &test.target {
        Target::Field(path) => {
            let looked = ev.lookup(path);
            let value = FieldValue::from_looked(&looked);
            let check = |m: &Matcher, resolve: &mut dyn FnMut(&FieldPath) -> Option<String>| {
                m.matches(&value, resolve)
            };
            if test.all {
                test.matchers.iter().all(|m| check(m, &mut resolve))
            } else {
                test.matchers.iter().any(|m| check(m, &mut resolve))
            }
        }
        Target::AnyValue => {
            let Some(full) = ev.full() else {
                return false;
            };
            let one = |m: &Matcher, resolve: &mut dyn FnMut(&FieldPath) -> Option<String>| {
                matcher::any_scalar(full, &mut |v| m.matches(v, resolve))
            };
            if test.all {
                test.matchers.iter().all(|m| one(m, &mut resolve))
            } else {
                test.matchers.iter().any(|m| one(m, &mut resolve))
            }
        }
    }
}

/// Loads every `.yml`/`.yaml` file under `dirs` (recursively, in path order).
pub(crate) fn load_dirs(
    dirs: &[PathBuf],
    plan: &mut FieldPlan,
) -> Result<(Vec<SigmaRule>, Vec<RuleProblem>), (PathBuf, std::io::Error)> {
    let mut files = Vec::new();
    for dir in dirs {
        collect_rule_files(dir, &mut files).map_err(|e| (dir.clone(), e))?;
    }
    files.sort();
    let mut rules = Vec::new();
    let mut problems = Vec::new();
    let mut seen_ids: HashMap<String, PathBuf> = HashMap::new();
    for file in files {
        match load_file(&file, plan) {
            Ok(rule) => {
                if let Some(first) = seen_ids.get(&rule.meta.id) {
                    problems.push(RuleProblem {
                        rule: rule.meta.id.trim_start_matches("sigma:").to_string(),
                        file: file.clone(),
                        reason: format!(
                            "duplicate rule id (already loaded from {})",
                            first.display()
                        ),
                    });
                    continue;
                }
                seen_ids.insert(rule.meta.id.clone(), file.clone());
                rules.push(rule);
            }
            Err(problem) => problems.push(problem),
        }
    }
    Ok((rules, problems))
}

fn collect_rule_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let meta = std::fs::metadata(dir)?;
    if meta.is_file() {
        out.push(dir.to_path_buf());
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let ft = entry.file_type()?;
        if ft.is_dir() {
            collect_rule_files(&path, out)?;
        } else if ft.is_file() || ft.is_symlink() {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if (name.ends_with(".yml") || name.ends_with(".yaml")) && path.is_file() {
                out.push(path);
            }
        }
    }
    Ok(())
}

fn file_label(file: &Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.display().to_string())
}

fn load_file(file: &Path, plan: &mut FieldPlan) -> Result<SigmaRule, RuleProblem> {
    let problem = |reason: String| RuleProblem {
        rule: file_label(file),
        file: file.to_path_buf(),
        reason,
    };
    let size = std::fs::metadata(file)
        .map_err(|e| problem(format!("cannot read: {e}")))?
        .len();
    if size > MAX_RULE_BYTES {
        return Err(problem(format!(
            "rule file larger than {MAX_RULE_BYTES} bytes"
        )));
    }
    let text = std::fs::read_to_string(file).map_err(|e| problem(format!("cannot read: {e}")))?;
    compile_rule_text(&text, file, plan)
}

/// Parses and compiles one rule. On failure nothing is registered in `plan` that matters:
/// unused plan entries only cost a key comparison.
pub(crate) fn compile_rule_text(
    text: &str,
    file: &Path,
    plan: &mut FieldPlan,
) -> Result<SigmaRule, RuleProblem> {
    let doc: Value = match serde_saphyr::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            return Err(RuleProblem {
                rule: file_label(file),
                file: file.to_path_buf(),
                reason: format!("invalid YAML: {}", first_line(&e.to_string())),
            });
        }
    };
    let id = doc
        .get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| file_label(file));
    let problem = |reason: String| RuleProblem {
        rule: id.clone(),
        file: file.to_path_buf(),
        reason,
    };
    let Value::Object(root) = &doc else {
        return Err(problem("not a YAML mapping".into()));
    };
    if root.contains_key("correlation") {
        return Err(problem("correlation rule (unsupported)".into()));
    }
    if root.get("action").is_some() {
        return Err(problem("rule collection `action` (unsupported)".into()));
    }
    let title = root
        .get("title")
        .and_then(Value::as_str)
        .ok_or_else(|| problem("missing `title`".into()))?
        .to_string();
    check_logsource(root.get("logsource")).map_err(problem)?;
    let detection = root
        .get("detection")
        .and_then(Value::as_object)
        .ok_or_else(|| problem("missing `detection` mapping".into()))?;

    let mut names = Vec::new();
    let mut selections = Vec::new();
    let mut condition_src: Option<Vec<String>> = None;
    for (key, value) in detection {
        match key.as_str() {
            "condition" => {
                condition_src = Some(match value {
                    Value::String(s) => vec![s.clone()],
                    Value::Array(items) => items
                        .iter()
                        .map(|i| {
                            i.as_str().map(str::to_string).ok_or_else(|| {
                                problem("`condition` list holds a non-string".into())
                            })
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err(problem("`condition` is not a string".into())),
                });
            }
            "timeframe" => {
                return Err(problem(
                    "`timeframe` (aggregation window, unsupported)".into(),
                ));
            }
            _ => {
                let sel = compile_selection(value, plan)
                    .map_err(|r| problem(format!("selection `{key}`: {r}")))?;
                names.push(key.clone());
                selections.push(sel);
            }
        }
    }
    let condition_src = condition_src.ok_or_else(|| problem("missing `condition`".into()))?;
    let mut conds = Vec::new();
    for src in &condition_src {
        conds.push(condition::parse(src, &names).map_err(problem)?);
    }
    let condition = if conds.len() == 1 {
        conds.remove(0)
    } else {
        Cond::Or(conds)
    };
    let prefilter = required_names(&condition, &selections);

    let level = root
        .get("level")
        .and_then(Value::as_str)
        .unwrap_or("medium");
    let severity = match level.to_ascii_lowercase().as_str() {
        "informational" => Severity::Informational,
        "low" => Severity::Low,
        "medium" => Severity::Medium,
        "high" => Severity::High,
        "critical" => Severity::Critical,
        other => return Err(problem(format!("unknown level `{other}`"))),
    };
    let author = root
        .get("author")
        .and_then(Value::as_str)
        .unwrap_or("unknown author")
        .to_string();
    let description = root
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or(&title)
        .trim()
        .to_string();
    let references: Vec<String> = string_list(root.get("references"));
    let falsepositives: Vec<String> = string_list(root.get("falsepositives"));
    let mitre_attack = string_list(root.get("tags"))
        .iter()
        .filter_map(|t| mitre_technique(t))
        .collect();
    let mut rationale = format!(
        "Sigma rule `{}` by {author} (Detection Rule License 1.1), loaded from {}.",
        id,
        file_label(file)
    );
    if !references.is_empty() {
        rationale.push_str(" References: ");
        rationale.push_str(&references.join(", "));
    }
    let remediation = if falsepositives.is_empty() {
        "Review the matching events and confirm they were authorised.".to_string()
    } else {
        format!(
            "Review the matching events and confirm they were authorised. Known false positives: {}.",
            falsepositives.join("; ")
        )
    };
    Ok(SigmaRule {
        meta: CheckMetadata {
            id: format!("sigma:{id}"),
            title,
            severity,
            resource_type: "AwsIamPrincipal".into(),
            description,
            rationale,
            remediation,
            compliance: Compliance {
                mitre_attack,
                ..Compliance::default()
            },
        },
        author,
        file: file.to_path_buf(),
        selections,
        condition,
        prefilter,
    })
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").chars().take(300).collect()
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// `attack.t1078.004` → `T1078.004`.
fn mitre_technique(tag: &str) -> Option<String> {
    let t = tag.strip_prefix("attack.")?;
    let rest = t.strip_prefix('t').or_else(|| t.strip_prefix('T'))?;
    let ok = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.');
    ok.then(|| format!("T{rest}"))
}

fn check_logsource(v: Option<&Value>) -> Result<(), String> {
    let Some(Value::Object(ls)) = v else {
        return Err("missing `logsource`".into());
    };
    let product = ls.get("product").and_then(Value::as_str).unwrap_or("");
    let service = ls.get("service").and_then(Value::as_str);
    if !product.eq_ignore_ascii_case("aws")
        || service.is_some_and(|s| !s.eq_ignore_ascii_case("cloudtrail"))
    {
        return Err(format!(
            "logsource is not AWS CloudTrail (product `{product}`, service `{}`)",
            service.unwrap_or("")
        ));
    }
    Ok(())
}

fn compile_selection(value: &Value, plan: &mut FieldPlan) -> Result<Selection, String> {
    match value {
        Value::Object(map) => Ok(Selection::AllOf(compile_map(map, plan)?)),
        Value::Array(items) if items.iter().all(Value::is_object) && !items.is_empty() => {
            let mut maps = Vec::new();
            for item in items {
                if let Value::Object(map) = item {
                    maps.push(compile_map(map, plan)?);
                }
            }
            Ok(Selection::AnyOf(maps))
        }
        Value::Array(items) if items.iter().any(Value::is_object) => {
            Err("list mixing maps and keywords (unsupported)".into())
        }
        // A keyword list (or a single keyword).
        Value::Array(_) | Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            let matchers = compile_values(value, &Modifiers::default(), plan)?;
            Ok(Selection::AllOf(vec![FieldTest {
                target: Target::AnyValue,
                matchers,
                all: false,
            }]))
        }
        Value::Null => Err("empty selection".into()),
    }
}

fn compile_map(
    map: &serde_json::Map<String, Value>,
    plan: &mut FieldPlan,
) -> Result<Vec<FieldTest>, String> {
    let mut tests = Vec::new();
    for (key, value) in map {
        let mut parts = key.split('|');
        let field = parts.next().unwrap_or("");
        let mods = Modifiers::parse(parts)?;
        let target = if field.is_empty() {
            Target::AnyValue
        } else {
            if field.split('.').any(str::is_empty) {
                return Err(format!("invalid field name `{field}`"));
            }
            Target::Field(FieldPath::register(plan, field))
        };
        if matches!(value, Value::Object(_)) {
            return Err(format!(
                "field `{field}` has a nested map as value (unsupported)"
            ));
        }
        let matchers = compile_values(value, &mods, plan)?;
        tests.push(FieldTest {
            target,
            matchers,
            all: mods.all,
        });
    }
    Ok(tests)
}

#[derive(Debug, Default)]
struct Modifiers {
    placement: Option<Placement>,
    all: bool,
    re: bool,
    re_i: bool,
    re_m: bool,
    re_s: bool,
    cidr: bool,
    exists: bool,
    cased: bool,
    fieldref: bool,
    cmp: Option<CmpOp>,
}

impl Modifiers {
    fn parse<'a>(names: impl Iterator<Item = &'a str>) -> Result<Modifiers, String> {
        let mut m = Modifiers::default();
        for name in names {
            let set_placement = |m: &mut Modifiers, p: Placement| {
                if m.placement.is_some_and(|old| old != p) {
                    return Err(format!("conflicting modifier `{name}`"));
                }
                m.placement = Some(p);
                Ok(())
            };
            match name {
                "contains" => set_placement(&mut m, Placement::Contains)?,
                "startswith" => set_placement(&mut m, Placement::StartsWith)?,
                "endswith" => set_placement(&mut m, Placement::EndsWith)?,
                "all" => m.all = true,
                "re" => m.re = true,
                "i" if m.re => m.re_i = true,
                "m" if m.re => m.re_m = true,
                "s" if m.re => m.re_s = true,
                "cidr" => m.cidr = true,
                "exists" => m.exists = true,
                "cased" => m.cased = true,
                "fieldref" => m.fieldref = true,
                "gt" => m.cmp = Some(CmpOp::Gt),
                "gte" => m.cmp = Some(CmpOp::Gte),
                "lt" => m.cmp = Some(CmpOp::Lt),
                "lte" => m.cmp = Some(CmpOp::Lte),
                other => return Err(format!("modifier `{other}` (unsupported)")),
            }
        }
        let kinds = [m.re, m.cidr, m.exists, m.cmp.is_some()]
            .iter()
            .filter(|b| **b)
            .count();
        if kinds > 1 || (kinds == 1 && (m.placement.is_some() || m.fieldref)) {
            return Err("incompatible combination of modifiers".into());
        }
        Ok(m)
    }
}

fn compile_values(
    value: &Value,
    mods: &Modifiers,
    plan: &mut FieldPlan,
) -> Result<Vec<Matcher>, String> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    if items.is_empty() {
        return Err("empty value list".into());
    }
    items
        .into_iter()
        .map(|v| compile_value(v, mods, plan))
        .collect()
}

fn compile_value(value: &Value, mods: &Modifiers, plan: &mut FieldPlan) -> Result<Matcher, String> {
    let text = match value {
        Value::Null => {
            if mods.placement.is_some()
                || mods.re
                || mods.cidr
                || mods.fieldref
                || mods.cmp.is_some()
            {
                return Err("`null` with a modifier".into());
            }
            return Ok(Matcher::Null);
        }
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(_) | Value::Object(_) => {
            return Err("nested list or map in a value list".into());
        }
    };
    if mods.exists {
        return match value {
            Value::Bool(b) => Ok(Matcher::Exists(*b)),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Matcher::Exists(true)),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Matcher::Exists(false)),
            _ => Err("`exists` needs true or false".into()),
        };
    }
    if mods.re {
        return matcher::compile_regex(&text, mods.re_i, mods.re_m, mods.re_s).map(Matcher::Regex);
    }
    if mods.cidr {
        return text
            .trim()
            .parse()
            .map(Matcher::Cidr)
            .map_err(|_| format!("invalid CIDR `{text}`"));
    }
    if let Some(op) = mods.cmp {
        return text
            .trim()
            .parse::<f64>()
            .map(|n| Matcher::Cmp(op, n))
            .map_err(|_| format!("`{text}` is not a number"));
    }
    if mods.fieldref {
        if text.is_empty() || text.split('.').any(str::is_empty) {
            return Err(format!("invalid field reference `{text}`"));
        }
        let kind = match mods.placement {
            None | Some(Placement::Plain) => RefKind::Equals,
            Some(Placement::Contains) => RefKind::Contains,
            Some(Placement::StartsWith) => RefKind::StartsWith,
            Some(Placement::EndsWith) => RefKind::EndsWith,
        };
        return Ok(Matcher::FieldRef {
            path: FieldPath::register(plan, &text),
            kind,
            cased: mods.cased,
        });
    }
    Pattern::new(
        &text,
        mods.placement.unwrap_or(Placement::Plain),
        mods.cased,
    )
    .map(Matcher::Str)
}

/// The lower-cased `eventName` values an event must have for `cond` to hold, when the
/// condition implies such a set (a sound over-approximation: `None` means "any event").
fn required_names(cond: &Cond, sels: &[Selection]) -> Option<BTreeSet<String>> {
    match cond {
        Cond::Sel(i) => selection_names(&sels[*i]),
        Cond::Not(_) => None,
        Cond::And(parts) => parts.iter().find_map(|c| required_names(c, sels)),
        Cond::All(ids) => ids.iter().find_map(|i| selection_names(&sels[*i])),
        Cond::Or(parts) => union(parts.iter().map(|c| required_names(c, sels))),
        Cond::AtLeast(_, ids) => union(ids.iter().map(|i| selection_names(&sels[*i]))),
    }
}

fn union(sets: impl Iterator<Item = Option<BTreeSet<String>>>) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    for s in sets {
        out.extend(s?);
    }
    Some(out)
}

fn selection_names(sel: &Selection) -> Option<BTreeSet<String>> {
    match sel {
        Selection::AllOf(tests) => map_names(tests),
        Selection::AnyOf(maps) => union(maps.iter().map(|m| map_names(m))),
    }
}

fn map_names(tests: &[FieldTest]) -> Option<BTreeSet<String>> {
    tests.iter().find_map(|t| {
        let Target::Field(path) = &t.target else {
            return None;
        };
        if path.segments.len() != 1 || path.segments[0] != "eventName" {
            return None;
        }
        if t.all && t.matchers.len() > 1 {
            return None;
        }
        let mut names = BTreeSet::new();
        for m in &t.matchers {
            match m {
                Matcher::Str(p) => names.insert(p.exact_value()?.to_lowercase()),
                _ => return None,
            };
        }
        Some(names)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mitre_tags() {
        assert_eq!(
            mitre_technique("attack.t1078.004").as_deref(),
            Some("T1078.004")
        );
        assert_eq!(mitre_technique("attack.persistence"), None);
        assert_eq!(mitre_technique("car.2016-04-005"), None);
    }

    #[test]
    fn prefilter_from_condition() {
        let mut plan = FieldPlan::default();
        let rule = compile_rule_text(
            "title: t\nid: x\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  a:\n    eventName: [StopLogging, DeleteTrail]\n  b:\n    eventName: UpdateTrail\n  f:\n    userIdentity.type: Root\n  condition: (a or b) and not f\n",
            Path::new("x.yml"),
            &mut plan,
        )
        .unwrap();
        let want: BTreeSet<String> = ["stoplogging", "deletetrail", "updatetrail"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(rule.prefilter, Some(want));
        let rule = compile_rule_text(
            "title: t\nid: y\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  a:\n    eventName|startswith: Stop\n  condition: a\n",
            Path::new("y.yml"),
            &mut plan,
        )
        .unwrap();
        assert_eq!(rule.prefilter, None);
    }
}
