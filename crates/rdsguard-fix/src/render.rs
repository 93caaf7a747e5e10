//! The plan as text for a terminal: every call with its parameters, impact and the findings it
//! fixes, then what is skipped and what the user must do afterwards.

use std::fmt::Write;

use crate::plan::{Impact, Plan};

/// Render `plan` for people. Parameters are shown in full: the plan shows exactly what will
/// be sent.
pub fn plan_text(plan: &Plan) -> String {
    let mut out = String::new();
    if plan.steps.is_empty() {
        out.push_str(
            "Nothing to change: no failing finding in scope has an automatic remediation.\n",
        );
    } else {
        let findings = plan.fixed_findings().len();
        let count = |i: Impact| plan.steps.iter().filter(|s| s.impact == i).count();
        let _ = writeln!(
            out,
            "Plan {}: {} call(s) fixing {} finding(s); impact: {} none, {} brief interruption, \
             {} reboot required, {} new resource to cut over to",
            &plan.hash()[..12],
            plan.steps.len(),
            findings,
            count(Impact::None),
            count(Impact::BriefInterruption),
            count(Impact::RebootRequired),
            count(Impact::NewResourceCutover),
        );
        for (i, s) in plan.steps.iter().enumerate() {
            let _ = writeln!(
                out,
                "\n{:>3}. {}:{}  [{}]  impact: {}",
                i + 1,
                s.service,
                s.operation,
                s.id,
                s.impact
            );
            let _ = writeln!(out, "     {}", s.description);
            let _ = writeln!(
                out,
                "     parameters: {}",
                serde_json::to_string(&s.parameters).unwrap_or_default()
            );
            if !s.fixes.is_empty() {
                let fixes: Vec<String> = s.fixes.iter().map(|f| f.to_string()).collect();
                let _ = writeln!(out, "     fixes: {}", fixes.join("; "));
            }
            for p in &s.preconditions {
                let _ = writeln!(out, "     precondition: {p}");
            }
            if let Some(w) = s.wait {
                let _ = writeln!(
                    out,
                    "     then waits for: {}",
                    serde_json::to_string(&w)
                        .unwrap_or_default()
                        .trim_matches('"')
                );
            }
            let _ = writeln!(out, "     rollback: {}", s.rollback);
        }
    }
    if !plan.skipped.is_empty() {
        let _ = writeln!(out, "\nNot fixed automatically ({}):", plan.skipped.len());
        for s in &plan.skipped {
            let _ = writeln!(out, "  - {}: {}", s.finding, s.reason);
        }
    }
    if !plan.notes.is_empty() {
        let _ = writeln!(out, "\nAfter applying:");
        for n in &plan.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    out
}
