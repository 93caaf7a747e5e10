//! Plain-text rendering of the engine's answers, for terminals and logs. Structured output
//! is the serde serialization of the same values.

use std::fmt::Write as _;

use crate::account::{Attachment, Explanation, Grant, WhoCanAnswer};
use crate::eval::{Applies, StatementTrace, StaticDecision};
use crate::generate::GeneratedPolicy;
use crate::policy::Effect;

fn attachment_text(a: &Attachment) -> String {
    match a {
        Attachment::Inline => "inline".into(),
        Attachment::Managed => "attached".into(),
        Attachment::GroupInline { group } => format!("inline in group {group}"),
        Attachment::GroupManaged { group } => format!("attached to group {group}"),
        Attachment::Boundary => "permissions boundary".into(),
        Attachment::ResourcePolicy => "resource policy".into(),
    }
}

fn grant_text(g: &Grant) -> String {
    format!(
        "{} {} statement {} ({}{})",
        match g.effect {
            Effect::Allow => "allow:",
            Effect::Deny => "deny: ",
        },
        g.policy,
        g.statement,
        attachment_text(&g.attachment),
        if g.unconditional { "" } else { ", conditional" }
    )
}

/// `who-can` as text.
pub fn who_can_text(a: &WhoCanAnswer) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Who can act on {}{} (account {}, {} principals evaluated)",
        a.resource,
        a.resource_type
            .as_deref()
            .map(|t| format!(" [{t}]"))
            .unwrap_or_default(),
        a.account_id,
        a.principals_evaluated
    );
    for act in &a.actions {
        let _ = writeln!(s, "\n{}", act.action);
        if act.principals.is_empty() && act.external.is_empty() {
            let _ = writeln!(s, "  nobody");
        }
        for p in &act.principals {
            let verdict = match &p.decision {
                StaticDecision::Allowed => "ALLOWED".to_string(),
                StaticDecision::Conditional { allowed_if } => format!("ALLOWED IF {allowed_if}"),
                StaticDecision::Denied { kind } => kind.as_str().to_string(),
            };
            let _ = writeln!(s, "  {:?} {}  {}", p.kind, p.principal, verdict);
            for g in &p.grants {
                let _ = writeln!(s, "      {}", grant_text(g));
            }
            for i in &p.incomplete {
                let _ = writeln!(s, "      incomplete: {i}");
            }
        }
        for u in &act.undetermined {
            let _ = writeln!(
                s,
                "  UNKNOWN {} (missing: {})",
                u.principal,
                u.missing.join("; ")
            );
        }
        for e in &act.external {
            // Grants are compiled as statements `KMS grant <id>` of the key's policy.
            let by = if e.statement.starts_with("KMS grant ") {
                "a KMS grant"
            } else {
                "the key policy"
            };
            let verdict = match &e.decision {
                StaticDecision::Allowed => format!("ALLOWED by {by}"),
                StaticDecision::Conditional { allowed_if } => {
                    format!("ALLOWED by {by} IF {allowed_if}")
                }
                StaticDecision::Denied { kind } => kind.as_str().to_string(),
            };
            let _ = writeln!(
                s,
                "  external {}  {} (statement {})",
                e.principal, verdict, e.statement
            );
        }
    }
    for n in &a.notes {
        let _ = writeln!(s, "\nnote: {n}");
    }
    s
}

fn trace_text(t: &StatementTrace) -> String {
    let mut s = format!(
        "{:?} {} [{}{}] statement {}: {}",
        t.effect,
        t.policy,
        t.policy_kind.label(),
        t.level.map(|l| format!(", level {l}")).unwrap_or_default(),
        t.statement,
        match t.applies {
            Applies::Yes => "applies",
            Applies::No => "does not apply",
            Applies::IfConditions => "applies if conditions hold",
        }
    );
    if !t.resource_matched {
        s.push_str(" (resource does not match)");
    }
    if let Some(pm) = t.principal_match {
        let _ = write!(s, " (principal: {pm:?})");
    }
    for c in &t.conditions {
        let _ = write!(
            s,
            "\n        {} {} {:?} -> {}",
            c.operator,
            c.key,
            c.values,
            match c.result {
                Some(true) => "true",
                Some(false) => "false",
                None => "unknown",
            }
        );
    }
    s
}

/// `can` (explain) as text.
pub fn explanation_text(e: &Explanation) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {} on {}: {}",
        e.principal,
        e.action,
        e.resource,
        e.decision.as_str()
    );
    if !e.deciding.is_empty() {
        let _ = writeln!(s, "\ndeciding statements:");
        for t in &e.deciding {
            let _ = writeln!(s, "  {}", trace_text(t));
        }
    }
    if !e.statements.is_empty() {
        let _ = writeln!(s, "\nstatements whose action matched:");
        for t in &e.statements {
            let _ = writeln!(s, "  {}", trace_text(t));
        }
    }
    if !e.context.is_empty() {
        let _ = writeln!(s, "\nrequest context:");
        for (k, v) in &e.context {
            let _ = writeln!(
                s,
                "  {k} = {}",
                serde_json::to_string(v).unwrap_or_default()
            );
        }
    }
    if !e.ignored_context_keys.is_empty() {
        let _ = writeln!(
            s,
            "\nignored (not applicable to this action): {}",
            e.ignored_context_keys.join(", ")
        );
    }
    for n in &e.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}

/// `iam policy` as text: the policy, then the verification.
pub fn generated_policy_text(g: &GeneratedPolicy) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{}", g.policy_json);
    let _ = writeln!(
        s,
        "\nverification: {} ({} checks)",
        if g.verified { "PASSED" } else { "FAILED" },
        g.checks.len()
    );
    for c in g.checks.iter().filter(|c| !c.ok) {
        let _ = writeln!(
            s,
            "  FAILED: {}: expected {}, got {}",
            c.description,
            c.expected.as_str(),
            c.actual.as_str()
        );
    }
    for n in &g.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}
