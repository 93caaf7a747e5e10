//! `rdsguard exposure` and `rdsguard who-can` on the seeded moto account: the exposure engine
//! and the IAM engine on facts the collector really read from an emulated account.

use rdsguard_network::{BlockLink, DbExposure};

use crate::support::*;
use crate::{collect_account, seeded};

fn exposure<'a>(all: &'a [DbExposure], id: &str) -> &'a DbExposure {
    all.iter()
        .find(|d| d.identifier == id)
        .unwrap_or_else(|| panic!("no exposure for {id}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn exposure_of_the_seeded_databases_is_exact() {
    let Some(ep) = endpoint() else { return };
    let s = seeded(&ep);
    let (snap, _) = collect_account(&s.account, &ep, &ep).await;
    let report = rdsguard_network::analyze(&snap);

    // Public flag, a subnet routing 0.0.0.0/0 to the attached internet gateway, the default
    // (allow-all) network ACL and a group open to 0.0.0.0/0 on 5432: reachable, with the path.
    let public = exposure(&report.databases, "pg-public");
    assert_eq!(public.port, Some(5432));
    assert_eq!(public.internet_reachable, Some(true), "{public:#?}");
    assert!(public.blocked_by.is_none());
    assert!(
        public
            .path
            .iter()
            .any(|p| !p.internet_gateway_ids.is_empty()),
        "the path names the internet gateway: {public:#?}"
    );
    assert!(
        public.sources.ipv4.iter().any(|c| c.cidr == "0.0.0.0/0"),
        "{:#?}",
        public.sources
    );

    // Not publicly accessible: blocked at the first link, whatever the groups allow.
    let private = exposure(&report.databases, "pg-encrypted");
    assert_eq!(private.internet_reachable, Some(false), "{private:#?}");
    assert_eq!(
        private.blocked_by.as_ref().map(|b| b.link),
        Some(BlockLink::NotPublicFlag)
    );
    assert!(
        !private.sources.ipv4.iter().any(|c| c.cidr == "0.0.0.0/0"),
        "{:#?}",
        private.sources
    );

    // The JSON contract of `rdsguard exposure --format json`.
    let json = serde_json::to_value(&report).unwrap();
    let first = &json["databases"][0];
    for key in ["identifier", "arn", "port", "internet_reachable", "sources"] {
        assert!(first.get(key).is_some(), "missing {key} in {first}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn who_can_on_the_seeded_account_answers_from_collected_policies() {
    let Some(ep) = endpoint() else { return };
    let s = seeded(&ep);
    let (snap, _) = collect_account(&s.account, &ep, &ep).await;
    let arn = rdsguard_iam::resolve_db(&snap, "pg-public")
        .into_iter()
        .find(|d| d.resource_type == "db")
        .map(|d| d.arn)
        .expect("pg-public resolves to its ARN");
    let answer = rdsguard_iam::who_can(&snap, &s.account, "rds:DeleteDBInstance", &arn)
        .expect("who-can answers");
    // alice has the rds-admin managed policy (rds:* on *) directly and through her group;
    // db-operator has it too, but its permissions boundary allows only rds:Describe*.
    let text = rdsguard_iam::render::who_can_text(&answer);
    let line = |who: &str| {
        text.lines()
            .find(|l| l.contains(&format!("arn:aws:iam::{}:{who}", s.account)))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("user/alice").contains("ALLOWED"), "{text}");
    assert!(
        !line("role/db-operator").contains("ALLOWED"),
        "the boundary must stop db-operator: {text}"
    );
}
