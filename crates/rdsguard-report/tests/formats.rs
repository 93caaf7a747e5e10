//! Every output format, on the hand-made fixture (exact content) and on the demo account's
//! full report (schema validity at scale).

mod common;

use common::{FORMULA_ID, SCRIPT_ID, demo_report, errors, fixture, schema_errors, validator};
use rdsguard_findings::{Report, Status};
use rdsguard_report::{Format, RenderOptions, asff, ocsf, render, sarif};
use serde_json::Value;

fn opts() -> RenderOptions {
    RenderOptions::default()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("valid JSON")
}

#[test]
fn table_lists_failures_and_gaps_not_passes() {
    let text = render(&fixture(), Format::Table, &opts());
    insta::assert_snapshot!("table", text);
    assert!(text.contains("bad-db"));
    assert!(text.contains("odd-db"));
    assert!(
        !text.contains("good-db"),
        "passing resources are not listed by default"
    );
    assert!(!text.contains('\x1b'), "no colour unless asked");
    let coloured = render(
        &fixture(),
        Format::Table,
        &RenderOptions {
            color: true,
            ..opts()
        },
    );
    assert!(coloured.contains('\x1b'));
}

#[test]
fn table_lists_the_first_resources_of_a_check_and_counts_the_others() {
    let check = common::meta(
        "many_fail",
        rdsguard_findings::Severity::High,
        "AwsRdsDbInstance",
        &[],
        &[],
    );
    let findings = (0..30)
        .map(|i| {
            common::finding(
                &check,
                Status::Fail,
                "AwsRdsDbInstance",
                &format!("db-{i:02}"),
                Some("us-east-1"),
                serde_json::json!({}),
            )
        })
        .collect();
    let report = Report::new(
        "audit",
        String::new(),
        vec![],
        vec![],
        vec![check],
        findings,
    );
    let text = render(&report, Format::Table, &opts());
    assert!(text.contains("db-24") && !text.contains("db-25"), "{text}");
    assert!(text.contains("… and 5 more"), "{text}");
    let all = render(
        &report,
        Format::Table,
        &RenderOptions {
            show_all: true,
            ..opts()
        },
    );
    assert!(all.contains("db-29") && !all.contains("more"), "{all}");
}

#[test]
fn streamed_outputs_are_the_rendered_text() {
    let reports = [fixture(), demo_report()];
    let compliance = RenderOptions {
        compliance: Some("fsbp".parse().expect("a framework")),
        ..opts()
    };
    for report in &reports {
        for options in [opts(), compliance.clone()] {
            for format in Format::ALL {
                let mut streamed = Vec::new();
                rdsguard_report::render_to(report, format, &options, &mut streamed)
                    .expect("writing to memory");
                assert_eq!(
                    String::from_utf8(streamed).expect("UTF-8"),
                    render(report, format, &options),
                    "{format:?}"
                );
            }
        }
    }
}

#[test]
fn json_round_trips() {
    let r = fixture();
    let back: Report = serde_json::from_str(&render(&r, Format::Json, &opts())).unwrap();
    assert_eq!(back, r);
}

#[test]
fn jsonl_is_one_finding_per_line_in_report_order() {
    let r = fixture();
    let text = render(&r, Format::Jsonl, &opts());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), r.findings.len());
    for (line, f) in lines.iter().zip(&r.findings) {
        let back: rdsguard_findings::Finding = serde_json::from_str(line).unwrap();
        assert_eq!(&back, f);
    }
}

#[test]
fn csv_has_header_one_row_per_finding_and_neutralised_formulas() {
    let r = fixture();
    let text = render(&r, Format::Csv, &opts());
    insta::assert_snapshot!("csv", text);
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        rdsguard_report::csv_format::COLUMNS
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), r.findings.len());
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let formula_row = rows
        .iter()
        .find(|r| r[col("resource_id")].contains("HYPERLINK"))
        .unwrap();
    assert_eq!(&formula_row[col("resource_id")], &format!("'{FORMULA_ID}"));
    let suppressed = rows
        .iter()
        .find(|r| &r[col("resource_id")] == "legacy-db")
        .unwrap();
    assert_eq!(&suppressed[col("suppressed")], "true");
    assert_eq!(
        &suppressed[col("suppression_reason")],
        "decommissioned in Q3 | see TICKET-1"
    );
    let bad = rows
        .iter()
        .find(|r| &r[col("resource_id")] == "bad-db")
        .unwrap();
    assert_eq!(&bad[col("cis")], "v1.4.0/2.3.1 v5.0.0/2.2.1");
    assert_eq!(&bad[col("fsbp")], "RDS.3");
    let ev: Value = serde_json::from_str(&bad[col("evidence")]).unwrap();
    assert_eq!(ev["storage_encrypted"], false);
}

#[test]
fn sarif_validates_against_the_official_schema() {
    for (name, report) in [("fixture", fixture()), ("demo", demo_report())] {
        let log = json(&render(&report, Format::Sarif, &opts()));
        let errors = schema_errors("sarif-schema-2.1.0.json", &log);
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}

#[test]
fn sarif_has_rules_with_help_and_results_for_failures_and_gaps_only() {
    let r = fixture();
    let log = sarif::to_value(&r);
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), r.checks.len());
    let enc = &rules[0];
    assert_eq!(enc["id"], "rds_instance_storage_encrypted");
    assert!(
        enc["help"]["text"]
            .as_str()
            .unwrap()
            .contains("Fix rds_instance_storage_encrypted")
    );
    assert_eq!(enc["properties"]["security-severity"], "8.0");
    let tags: Vec<&str> = enc["properties"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        tags.contains(&"CIS v5.0.0/2.2.1") && tags.contains(&"FSBP RDS.3"),
        "{tags:?}"
    );

    let results = run["results"].as_array().unwrap();
    let expected = r
        .findings
        .iter()
        .filter(|f| matches!(f.status, Status::Fail | Status::NotAssessed))
        .count();
    assert_eq!(results.len(), expected, "no PASS or NOT_APPLICABLE results");
    for res in results {
        let idx = res["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[idx]["id"], res["ruleId"],
            "ruleIndex points at its rule"
        );
    }
    let bad = results
        .iter()
        .find(|x| x["locations"][0]["logicalLocations"][0]["name"] == "bad-db")
        .unwrap();
    assert_eq!(bad["level"], "error");
    assert_eq!(bad["kind"], "fail");
    assert_eq!(
        bad["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "arn:aws:rds:us-east-1:111122223333:db:bad-db"
    );
    let gap = results
        .iter()
        .find(|x| x["locations"][0]["logicalLocations"][0]["name"] == "odd-db")
        .unwrap();
    assert_eq!(
        (gap["kind"].as_str(), gap["level"].as_str()),
        (Some("review"), Some("none"))
    );
    let suppressed = results
        .iter()
        .find(|x| x["locations"][0]["logicalLocations"][0]["name"] == "legacy-db")
        .unwrap();
    assert_eq!(suppressed["suppressions"][0]["kind"], "external");
    // Fingerprints identify the finding across runs: all distinct.
    let mut prints: Vec<&str> = results
        .iter()
        .map(|x| {
            x["partialFingerprints"]["rdsguardFindingKey/v1"]
                .as_str()
                .unwrap()
        })
        .collect();
    prints.sort();
    prints.dedup();
    assert_eq!(prints.len(), results.len());
}

#[test]
fn asff_findings_satisfy_batch_import_constraints() {
    for (name, report) in [("fixture", fixture()), ("demo", demo_report())] {
        let findings = asff::findings(&report);
        assert_eq!(
            findings.len(),
            report.findings.len(),
            "{name}: every result is a finding"
        );
        let mut ids = std::collections::BTreeSet::new();
        for f in &findings {
            if let Err(errors) = asff::validate(f) {
                panic!("{name}: {errors:#?}\n{f:#}");
            }
            assert!(
                ids.insert(f["Id"].as_str().unwrap().to_string()),
                "{name}: duplicate Id {}",
                f["Id"]
            );
        }
    }
}

#[test]
fn asff_maps_status_severity_and_limits() {
    let findings = asff::findings(&fixture());
    let by = |id: &str| {
        findings
            .iter()
            .find(|f| f["ProductFields"]["rdsguard/ResourceName"] == id)
            .unwrap_or_else(|| panic!("no finding for {id}"))
    };
    let bad = by("bad-db");
    assert_eq!(bad["Compliance"]["Status"], "FAILED");
    assert_eq!(bad["Severity"]["Label"], "HIGH");
    assert_eq!(bad["Workflow"]["Status"], "NEW");
    assert_eq!(
        bad["ProductArn"],
        "arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default"
    );
    assert_eq!(bad["Resources"][0]["Type"], "AwsRdsDbInstance");
    assert_eq!(bad["Resources"][0]["Partition"], "aws");
    assert_eq!(
        bad["ProductFields"]["rdsguard/evidence/storage_encrypted"],
        "false"
    );
    let reqs: Vec<&str> = bad["Compliance"]["RelatedRequirements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        reqs.contains(&"CIS AWS Foundations Benchmark v5.0.0/2.2.1"),
        "{reqs:?}"
    );
    assert!(reqs.contains(&"AWS Foundational Security Best Practices RDS.3"));

    let good = by("good-db");
    assert_eq!(good["Compliance"]["Status"], "PASSED");
    assert_eq!(good["Severity"]["Label"], "INFORMATIONAL");
    assert_eq!(good["Severity"]["Original"], "HIGH");
    assert_eq!(
        by("odd-db")["Compliance"]["Status"],
        "NOT_AVAILABLE",
        "not assessed is never PASSED"
    );
    let na = by("replica-db");
    assert_eq!(
        (
            na["Compliance"]["Status"].as_str(),
            na["RecordState"].as_str()
        ),
        (Some("NOT_AVAILABLE"), Some("ARCHIVED"))
    );
    let sup = by("legacy-db");
    assert_eq!(sup["Workflow"]["Status"], "SUPPRESSED");
    assert!(
        sup["Note"]["Text"]
            .as_str()
            .unwrap()
            .contains("decommissioned")
    );

    // Global account finding: Security Hub's account id form, the report's first region.
    let acct = by("account");
    assert_eq!(acct["Resources"][0]["Id"], "AWS::::Account:111122223333");
    assert_eq!(acct["Resources"][0]["Region"], "eu-west-1");
    assert!(
        acct["Description"].as_str().unwrap().len() <= 1024,
        "long message truncated"
    );
}

#[test]
fn asff_batches_hold_one_account_at_most_100_each() {
    let mut report = demo_report();
    let account = report.accounts[0].clone();
    // Another account's finding must not be sent with the default product ARN.
    let mut foreign = report.findings[0].clone();
    std::sync::Arc::make_mut(&mut foreign.resource).account_id = "999999999999".into();
    report.findings.push(foreign);
    let product = asff::default_product_arn("aws", "us-east-1", &account);
    let batches = asff::asff_batches(&report, &account, "us-east-1", &product);
    let own = report
        .findings
        .iter()
        .filter(|f| f.resource.account_id == account)
        .count();
    assert!(own > 100, "the demo is big enough to need several batches");
    assert_eq!(batches.len(), own.div_ceil(100));
    assert!(
        batches
            .iter()
            .all(|b| !b.is_empty() && b.len() <= asff::BATCH_SIZE)
    );
    let all: Vec<&Value> = batches.iter().flatten().collect();
    assert_eq!(all.len(), own);
    assert!(
        all.iter()
            .all(|f| f["AwsAccountId"] == account.as_str() && f["ProductArn"] == product.as_str())
    );
}

#[test]
fn asff_validator_rejects_what_security_hub_rejects() {
    let mut f = asff::findings(&fixture()).remove(0);
    assert!(asff::validate(&f).is_ok());
    f["Title"] = Value::String("t".repeat(257));
    f["AwsAccountId"] = Value::String("12345".into());
    f["Resources"] = Value::Array(vec![]);
    f["UpdatedAt"] = Value::String("2026-06-01 00:00".into());
    let errors = asff::validate(&f).unwrap_err();
    for field in ["Title", "AwsAccountId", "Resources", "UpdatedAt"] {
        assert!(
            errors.iter().any(|e| e.starts_with(field)),
            "{field} not flagged: {errors:?}"
        );
    }
}

#[test]
fn asff_ids_stay_within_512_and_distinct() {
    let mut r = fixture();
    let mut a = r.findings[0].clone();
    std::sync::Arc::make_mut(&mut a.resource).arn = Some(format!(
        "arn:aws:rds:us-east-1:111122223333:db:{}",
        "a".repeat(600)
    ));
    let mut b = a.clone();
    std::sync::Arc::make_mut(&mut b.resource).arn = Some(format!(
        "arn:aws:rds:us-east-1:111122223333:db:{}b",
        "a".repeat(600)
    ));
    r.findings = vec![a, b];
    let ids: Vec<String> = asff::findings(&r)
        .iter()
        .map(|f| f["Id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.iter().all(|i| i.len() <= 512));
    assert_ne!(ids[0], ids[1]);
}

#[test]
fn ocsf_validates_against_ocsf_1_5_schema() {
    for (name, report) in [("fixture", fixture()), ("demo", demo_report())] {
        let events = ocsf::events(&report);
        assert_eq!(events.len(), report.findings.len());
        let v = validator("ocsf-1.5.0/compliance_finding.schema.json");
        for e in &events {
            assert_eq!(e["class_uid"], 2003);
            assert_eq!(e["type_uid"], 200301);
            let errors = errors(&v, e);
            assert!(errors.is_empty(), "{name}: {errors:#?}\n{e:#}");
        }
    }
}

#[test]
fn ocsf_trail_reports_are_detection_findings() {
    let mut r = fixture();
    r.kind = "trail".into();
    r.checks[0].compliance.mitre_attack = vec!["T1537".into()];
    let v = validator("ocsf-1.5.0/detection_finding.schema.json");
    for e in ocsf::events(&r) {
        assert_eq!(e["class_uid"], 2004);
        assert_eq!(e["type_uid"], 200401);
        assert!(e.get("compliance").is_none());
        let errors = errors(&v, &e);
        assert!(errors.is_empty(), "{errors:#?}\n{e:#}");
    }
}

#[test]
fn ocsf_maps_statuses_without_false_passes() {
    let events = ocsf::events(&fixture());
    let by = |id: &str| {
        events
            .iter()
            .find(|e| e["resources"][0]["name"] == id)
            .unwrap()
    };
    assert_eq!(by("good-db")["compliance"]["status_id"], 1);
    assert_eq!(by("bad-db")["compliance"]["status_id"], 3);
    assert_eq!(by("bad-db")["severity_id"], 4);
    assert_eq!(by("odd-db")["compliance"]["status_id"], 99);
    assert_eq!(by("odd-db")["compliance"]["status"], "Not Assessed");
    assert_eq!(by("legacy-db")["status_id"], 3, "suppressed");
    assert_eq!(by("bad-db")["time"], 1_780_272_000_000_i64);
    assert_eq!(
        by("bad-db")["resources"][0]["data"]["storage_encrypted"],
        false
    );
    assert_eq!(by("bad-db")["cloud"]["account"]["uid"], "111122223333");
    assert!(
        by("bad-db")["compliance"]["standards"]
            .as_array()
            .unwrap()
            .contains(&Value::String(
                "CIS AWS Foundations Benchmark v5.0.0".into()
            ))
    );
}

#[test]
fn ocsf_schema_rejects_unknown_attributes() {
    // The committed schema is strict: a misspelt attribute must fail (guards the test itself).
    let mut e = ocsf::events(&fixture()).remove(0);
    e["finding_info"]["titel"] = Value::String("typo".into());
    assert!(!schema_errors("ocsf-1.5.0/compliance_finding.schema.json", &e).is_empty());
}

#[test]
fn junit_is_well_formed_with_one_suite_per_check() {
    let r = fixture();
    let xml = render(&r, Format::Junit, &opts());
    insta::assert_snapshot!("junit", xml);
    let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(
        root.attribute("tests"),
        Some(r.findings.len().to_string().as_str())
    );
    assert_eq!(
        root.attribute("failures"),
        Some(r.summary.fail.to_string().as_str())
    );
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(suites.len(), r.checks.len());
    let cases: Vec<_> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    assert_eq!(cases.len(), r.findings.len());
    let failures = root
        .descendants()
        .filter(|n| n.has_tag_name("failure"))
        .count();
    let skipped = root
        .descendants()
        .filter(|n| n.has_tag_name("skipped"))
        .count();
    assert_eq!(failures, r.summary.fail);
    // not assessed + not applicable + the suppressed failure
    assert_eq!(
        skipped,
        r.summary.not_assessed + r.summary.not_applicable + r.summary.suppressed
    );
    let script_case = cases
        .iter()
        .find(|c| c.attribute("name").is_some_and(|n| n.contains("<script>")))
        .expect("markup in names survives escaping");
    assert!(script_case.children().any(|n| n.has_tag_name("failure")));
    // Schema-level sanity on the demo too.
    roxmltree::Document::parse(&render(&demo_report(), Format::Junit, &opts())).unwrap();
}

#[test]
fn markdown_summarises_and_escapes() {
    let md = render(&fixture(), Format::Markdown, &opts());
    insta::assert_snapshot!("markdown", md);
    assert!(!md.contains("<script>"), "no raw markup from the account");
    assert!(md.contains("&lt;script&gt;"));
    assert!(md.contains("\\| restorable by \\*anyone\\*"));
    assert!(md.contains("<details>"));
    assert!(!md.contains("good-db"), "passing resources are not listed");
}

#[test]
fn markdown_stays_under_the_comment_limit() {
    let md = render(&demo_report(), Format::Markdown, &opts());
    assert!(md.len() < 65_536, "{} bytes", md.len());
    let mut big = demo_report();
    let extra: Vec<_> = (0..2000)
        .map(|i| {
            let mut f = big
                .findings
                .iter()
                .find(|f| f.status == Status::Fail)
                .unwrap()
                .clone();
            std::sync::Arc::make_mut(&mut f.resource).id = format!("db-{i}-{}", "x".repeat(40));
            f.check_id = format!("custom_check_{}", i % 40).into();
            f
        })
        .collect();
    big.findings.extend(extra);
    let md = render(&big, Format::Markdown, &opts());
    assert!(md.len() < 65_536, "{} bytes", md.len());
    assert!(md.contains("left out to fit a comment"));
}

#[test]
fn html_is_self_contained_and_escapes_everything() {
    let html = render(&fixture(), Format::Html, &opts());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains(SCRIPT_ID), "resource id must be escaped");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert!(!html.contains("<b>bold</b>"), "evidence must be escaped");
    // Exactly one script element: ours.
    assert_eq!(html.matches("<script>").count(), 1);
    // Nothing is fetched: no element or style that loads a resource.
    for forbidden in [
        "<link",
        "<img",
        "<iframe",
        "src=",
        "href=\"http",
        "@import",
        "url(",
    ] {
        assert!(
            !html.contains(forbidden),
            "external reference `{forbidden}`"
        );
    }
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("id=\"count-fail\" data-count=\"4\""));
    assert!(html.contains("<svg"));
    assert!(html.contains("id=\"chart-severity\""));
}

#[test]
fn html_groups_database_facts_by_theme() {
    let html = render(&fixture(), Format::Html, &opts());
    let start = html
        .find("data-resource=\"bad-db\"")
        .expect("a section for bad-db");
    let section = &html[start..start + html[start..].find("</article>").unwrap()];
    let exposure = section.find("<h4>Exposure</h4>").unwrap();
    let encryption = section.find("<h4>Encryption</h4>").unwrap();
    let tls = section.find("<h4>TLS</h4>").unwrap();
    let public = section.find("publicly_accessible").unwrap();
    let encrypted = section.find("storage_encrypted").unwrap();
    let tls_fact = section.find("lowest_accepted_tls").unwrap();
    assert!(exposure < public && public < encryption);
    assert!(encryption < encrypted && encrypted < tls);
    assert!(tls < tls_fact);
    assert!(
        section.contains("Fix rds_instance_storage_encrypted"),
        "remediation of what fails"
    );
}

#[test]
fn html_fact_themes_follow_key_words_not_substrings() {
    let mut r = fixture();
    let f = r
        .findings
        .iter_mut()
        .find(|f| f.resource.id == "bad-db")
        .unwrap();
    f.evidence
        .insert("engine_lifecycle_support".into(), "x".into());
    f.evidence
        .insert("min_backup_retention_days".into(), 7.into());
    f.evidence.insert("rds.tls10".into(), "disabled".into());
    f.evidence
        .insert("internet_sources".into(), "10.0.0.0/8 ".repeat(40).into());
    let html = render(&r, Format::Html, &opts());
    let start = html.find("data-resource=\"bad-db\"").unwrap();
    let section = &html[start..start + html[start..].find("</article>").unwrap()];
    let facts = &section[..section.find("</div>").unwrap()];
    assert!(
        !facts.contains("engine_lifecycle_support"),
        "\"support\" is not a port"
    );
    assert!(
        !facts.contains("min_backup_retention_days"),
        "days are not TLS facts"
    );
    let tls = facts.find("<h4>TLS</h4>").unwrap();
    assert!(facts[tls..].contains("rds.tls10"));
    assert!(
        facts.contains("<details><summary><code>10.0.0.0/8"),
        "long values collapsed"
    );
}

#[test]
fn html_lists_failures_before_passes_whatever_the_report_order() {
    let html = render(&fixture(), Format::Html, &opts());
    let table = &html[html.find("id=\"findings-table\"").unwrap()..];
    let first_fail = table.find("data-status=\"FAIL\"").unwrap();
    let first_gap = table.find("data-status=\"NOT_ASSESSED\"").unwrap();
    let first_pass = table.find("data-status=\"PASS\"").unwrap();
    let suppressed = table.find("data-status=\"SUPPRESSED\"").unwrap();
    assert!(first_fail < first_gap && first_gap < first_pass && first_pass < suppressed);
}

#[test]
fn html_demo_report_has_every_result() {
    let r = demo_report();
    let html = render(&r, Format::Html, &opts());
    assert_eq!(html.matches("<tr data-status=").count(), r.findings.len());
}

#[test]
fn every_format_renders_the_demo_report() {
    let r = demo_report();
    for f in Format::ALL {
        let out = render(&r, f, &opts());
        assert!(!out.trim().is_empty(), "{f}");
    }
}

#[test]
fn sarif_schema_rejects_invalid_logs() {
    // Guards the validation itself: a wrong level and an unknown property must be caught.
    let mut log = sarif::to_value(&fixture());
    log["runs"][0]["results"][0]["level"] = Value::String("fatal".into());
    log["runs"][0]["tool"]["driver"]["colour"] = Value::String("red".into());
    let errors = schema_errors("sarif-schema-2.1.0.json", &log);
    assert!(errors.len() >= 2, "{errors:#?}");
}
