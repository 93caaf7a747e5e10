//! Organization scanning against moto: an organization with an OU, an SCP and an RCP, three
//! member accounts with RDS databases, one of them whose role cannot be assumed; the merged
//! snapshot, the per-account gaps, the audit of the unassessable account, and sharding.
//!
//! moto's STS AssumeRole does not check that the role exists (any role ARN of any account id
//! gives credentials in that account), so "role missing" is simulated with the fault-injecting
//! proxy: AssumeRole requests naming that account are answered with AccessDenied, exactly what
//! AWS answers when the role does not exist or does not trust the caller.

use std::collections::BTreeSet;

use aws_sdk_organizations::types::{PolicyType, TargetType};
use rdsguard_collect::{
    NoProgress, OrgOptions, Progress, Shard, collect_organization_with_sdk_config,
};
use rdsguard_model::{GapKind, RESOURCE_CONTROL_POLICY, SERVICE_CONTROL_POLICY, Snapshot, ops};

use crate::proxy::{Fault, Proxy};
use crate::support::*;

const SCP: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"rds:DeleteDBInstance","Resource":"*"}]}"#;
const RCP: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#;

struct Org {
    management: String,
    org_id: String,
    root_id: String,
    ou_id: String,
    scp_id: String,
    rcp_id: String,
    /// In the OU, one database.
    in_ou: String,
    /// Under the root, one database.
    under_root: String,
    /// Its role "cannot be assumed" (see the module comment).
    no_role: String,
}

async fn create_db(endpoint: &str, account: &str, id: &str) {
    let sdk = sdk_config(account, endpoint, Some(REGION)).await;
    aws_sdk_rds::Client::new(&sdk)
        .create_db_instance()
        .db_instance_identifier(id)
        .engine("postgres")
        .engine_version("16.3")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("postgres")
        .master_user_password("not-a-secret-1")
        .send()
        .await
        .expect("CreateDBInstance");
}

async fn build_org(endpoint: &str, tag: u32) -> Org {
    let management = fresh_account(tag);
    let sdk = sdk_config(&management, endpoint, Some(REGION)).await;
    let orgs = aws_sdk_organizations::Client::new(&sdk);
    let created = orgs
        .create_organization()
        .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
        .send()
        .await
        .expect("CreateOrganization");
    let org_id = created.organization().unwrap().id().unwrap().to_string();
    let roots = orgs.list_roots().send().await.unwrap();
    let root_id = roots.roots()[0].id().unwrap().to_string();
    for t in [
        PolicyType::ServiceControlPolicy,
        PolicyType::ResourceControlPolicy,
    ] {
        orgs.enable_policy_type()
            .root_id(&root_id)
            .policy_type(t)
            .send()
            .await
            .expect("EnablePolicyType");
    }
    let ou_id = orgs
        .create_organizational_unit()
        .parent_id(&root_id)
        .name("prod")
        .send()
        .await
        .unwrap()
        .organizational_unit()
        .unwrap()
        .id()
        .unwrap()
        .to_string();
    let mut members = Vec::new();
    for name in ["in-ou", "under-root", "no-role"] {
        let status = orgs
            .create_account()
            .account_name(name)
            .email(format!("{name}-{management}@example.com"))
            .send()
            .await
            .expect("CreateAccount");
        members.push(
            status
                .create_account_status()
                .unwrap()
                .account_id()
                .unwrap()
                .to_string(),
        );
    }
    orgs.move_account()
        .account_id(&members[0])
        .source_parent_id(&root_id)
        .destination_parent_id(&ou_id)
        .send()
        .await
        .unwrap();
    let policy = |name: &'static str, t: PolicyType, content: &'static str| {
        let orgs = orgs.clone();
        async move {
            orgs.create_policy()
                .name(name)
                .description(name)
                .r#type(t)
                .content(content)
                .send()
                .await
                .expect("CreatePolicy")
                .policy()
                .unwrap()
                .policy_summary()
                .unwrap()
                .id()
                .unwrap()
                .to_string()
        }
    };
    let scp_id = policy("deny-rds-delete", PolicyType::ServiceControlPolicy, SCP).await;
    let rcp_id = policy("require-tls", PolicyType::ResourceControlPolicy, RCP).await;
    for (policy_id, target) in [(&scp_id, &ou_id), (&rcp_id, &root_id)] {
        orgs.attach_policy()
            .policy_id(policy_id)
            .target_id(target)
            .send()
            .await
            .expect("AttachPolicy");
    }
    create_db(endpoint, &members[0], "orders-prod").await;
    create_db(endpoint, &members[1], "billing").await;
    create_db(endpoint, &members[2], "hidden").await;
    Org {
        management,
        org_id,
        root_id,
        ou_id,
        scp_id,
        rcp_id,
        in_ou: members[0].clone(),
        under_root: members[1].clone(),
        no_role: members[2].clone(),
    }
}

async fn scan(org: &Org, endpoint: &str, via: &str, opts: &OrgOptions) -> Snapshot {
    scan_with(org, endpoint, via, opts, &NoProgress).await
}

async fn scan_with(
    org: &Org,
    endpoint: &str,
    via: &str,
    opts: &OrgOptions,
    progress: &dyn Progress,
) -> Snapshot {
    let sdk = sdk_config(&org.management, endpoint, Some(REGION)).await;
    collect_organization_with_sdk_config(&sdk, &options(via, &[REGION]), opts, progress)
        .await
        .expect("organization scan failed")
        .0
}

fn instance_ids(snap: &Snapshot, account: &str) -> Vec<String> {
    let a = snap
        .accounts
        .iter()
        .find(|a| a.account_id == account)
        .unwrap_or_else(|| panic!("account {account} missing"));
    a.regions
        .iter()
        .flat_map(|r| &r.rds.db_instances)
        .map(|d| d.db_instance_identifier.clone())
        .collect()
}

#[derive(Default)]
struct AccountCounter {
    done: std::sync::Mutex<Vec<(String, bool)>>,
    total: std::sync::atomic::AtomicU64,
}

impl Progress for AccountCounter {
    fn start(&self, _total_hint: u64) {}
    fn op_done(&self, _op: &str, _region: Option<&str>) {}
    fn message(&self, _msg: &str) {}
    fn finish(&self) {}
    fn accounts_start(&self, total: u64) {
        self.total
            .store(total, std::sync::atomic::Ordering::Relaxed);
    }
    fn account_done(&self, account_id: &str, failed: bool) {
        self.done
            .lock()
            .unwrap()
            .push((account_id.to_string(), failed));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn organization_is_scanned_with_policies_paths_and_unassessable_accounts() {
    let Some(ep) = endpoint() else { return };
    let org = build_org(&ep, 60).await;
    let leaked: &'static str = Box::leak(org.no_role.clone().into_boxed_str());
    let proxy = Proxy::start(&ep, Some(Fault::DenyMatching(ops::STS_ASSUME_ROLE, leaked))).await;
    let progress = AccountCounter::default();
    let opts = OrgOptions {
        external_id: Some("rdsguard-ext".into()),
        ..OrgOptions::default()
    };
    let snap = scan_with(&org, &ep, &proxy.url, &opts, &progress).await;

    // The organization: ids, enabled types, every SCP and RCP with its document.
    let o = snap.organization.as_ref().expect("organization collected");
    assert_eq!(o.id, org.org_id);
    assert_eq!(
        o.management_account_id.as_deref(),
        Some(org.management.as_str())
    );
    assert!(o.policy_type_enabled(SERVICE_CONTROL_POLICY));
    assert!(o.policy_type_enabled(RESOURCE_CONTROL_POLICY));
    assert!(o.gaps.is_empty(), "{:#?}", o.gaps);
    let scp = o.policy(&org.scp_id).expect("our SCP");
    assert_eq!(scp.content.as_deref(), Some(SCP));
    assert_eq!(scp.policy_type, SERVICE_CONTROL_POLICY);
    assert!(!scp.aws_managed);
    let rcp = o.policy(&org.rcp_id).expect("our RCP");
    assert_eq!(rcp.content.as_deref(), Some(RCP));
    assert_eq!(rcp.policy_type, RESOURCE_CONTROL_POLICY);
    let full_access = o.policy("p-FullAWSAccess").expect("the AWS managed SCP");
    assert!(full_access.aws_managed && full_access.content.is_some());

    // Every active account, sorted, once.
    let mut expected = vec![
        org.management.clone(),
        org.in_ou.clone(),
        org.under_root.clone(),
        org.no_role.clone(),
    ];
    expected.sort();
    let ids: Vec<&str> = snap
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(ids, expected);

    // Members collected in their own account with the assumed role.
    assert_eq!(instance_ids(&snap, &org.in_ou), ["orders-prod"]);
    assert_eq!(instance_ids(&snap, &org.under_root), ["billing"]);
    assert!(instance_ids(&snap, &org.management).is_empty());
    let account = |id: &str| snap.accounts.iter().find(|a| a.account_id == id).unwrap();
    assert_eq!(account(&org.in_ou).name.as_deref(), Some("in-ou"));

    // Paths: root first, account last, each node with its attached policies.
    let path = &account(&org.in_ou).org_path;
    let kinds: Vec<(&str, &str)> = path
        .iter()
        .map(|t| (t.id.as_str(), t.kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            (org.root_id.as_str(), "ROOT"),
            (org.ou_id.as_str(), TargetType::OrganizationalUnit.as_str()),
            (org.in_ou.as_str(), "ACCOUNT"),
        ]
    );
    assert!(path[0].policy_ids.contains(&org.rcp_id));
    assert!(path[0].policy_ids.contains(&"p-FullAWSAccess".to_string()));
    // New OUs get the AWS managed FullAWSAccess policies attached, as in AWS.
    assert!(path[1].policy_ids.contains(&org.scp_id));
    assert!(!path[1].policy_ids.contains(&org.rcp_id));
    assert!(!path[2].policy_ids.contains(&org.scp_id));
    assert_eq!(path[1].name.as_deref(), Some("prod"));
    let root_path: Vec<&str> = account(&org.under_root)
        .org_path
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    assert_eq!(root_path, [org.root_id.as_str(), org.under_root.as_str()]);

    // The account whose role cannot be assumed: kept, no regions, the reason as a gap.
    let denied = account(&org.no_role);
    assert!(denied.regions.is_empty() && denied.iam.is_none());
    assert_eq!(denied.gaps.len(), 1, "{:#?}", denied.gaps);
    let gap = &denied.gaps[0];
    assert_eq!(gap.op_name(), "sts:AssumeRole");
    assert_eq!(gap.kind, GapKind::AccessDenied);
    assert!(
        gap.message.contains(&format!(
            ":iam::{}:role/OrganizationAccountAccessRole",
            org.no_role
        )),
        "{}",
        gap.message
    );
    assert_eq!(denied.name.as_deref(), Some("no-role"));
    assert!(
        !denied.org_path.is_empty(),
        "the path is known even when the role is not"
    );

    // The management account used the caller's own credentials: no AssumeRole into it; the
    // members were assumed with the external id and an rdsguard session name.
    let assumes: Vec<String> = proxy
        .log()
        .into_iter()
        .filter(|r| r.operation == "AssumeRole")
        .map(|r| r.params)
        .collect();
    assert_eq!(assumes.len(), 3, "{assumes:#?}");
    assert!(assumes.iter().all(|p| !p.contains(&org.management)));
    assert!(
        assumes
            .iter()
            .all(|p| p.contains("RoleSessionName=rdsguard-")
                && p.contains("ExternalId=rdsguard-ext"))
    );

    // Progress: accounts done and failed.
    assert_eq!(progress.total.load(std::sync::atomic::Ordering::Relaxed), 4);
    let done = progress.done.lock().unwrap().clone();
    assert_eq!(done.len(), 4);
    let failed: Vec<&str> = done
        .iter()
        .filter(|(_, failed)| *failed)
        .map(|(id, _)| id.as_str())
        .collect();
    assert_eq!(failed, [org.no_role.as_str()]);

    // The audit reports the unassessable account as NOT_ASSESSED with the reason.
    let findings = rdsguard_checks::evaluate(&snap, &rdsguard_checks::Config::default());
    let about: Vec<_> = findings
        .iter()
        .filter(|f| f.resource.account_id == org.no_role)
        .collect();
    assert!(!about.is_empty(), "the account is not silently dropped");
    assert!(
        about
            .iter()
            .all(|f| f.status == rdsguard_findings::Status::NotAssessed),
        "{about:#?}"
    );
    assert!(about.iter().any(|f| f.message.contains("sts:AssumeRole")));
}

#[tokio::test(flavor = "multi_thread")]
async fn shards_partition_the_accounts_and_merge_back() {
    let Some(ep) = endpoint() else { return };
    let org = build_org(&ep, 61).await;
    let full = scan(&org, &ep, &ep, &OrgOptions::default()).await;
    let mut shards = Vec::new();
    for index in 0..3 {
        let opts = OrgOptions {
            shard: Some(Shard { index, count: 3 }),
            ..OrgOptions::default()
        };
        shards.push(scan(&org, &ep, &ep, &opts).await);
    }
    let mut seen = BTreeSet::new();
    for s in &shards {
        for a in &s.accounts {
            assert!(
                seen.insert(a.account_id.clone()),
                "{} in two shards",
                a.account_id
            );
        }
        assert_eq!(s.organization.as_ref().unwrap().id, org.org_id);
    }
    let merged = rdsguard_model::io::merge(
        shards
            .into_iter()
            .enumerate()
            .map(|(i, s)| (format!("shard-{i}.json").into(), s)),
    )
    .expect("shards merge");
    let mut merged_ids: Vec<&str> = merged
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    merged_ids.sort();
    let full_ids: Vec<&str> = full
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(merged_ids, full_ids);
    assert_eq!(instance_ids(&merged, &org.no_role), ["hidden"]);
    assert_eq!(
        merged.organization.as_ref().unwrap().policies.len(),
        full.organization.as_ref().unwrap().policies.len()
    );

    // --accounts and --exclude.
    let opts = OrgOptions {
        accounts: vec![org.in_ou.clone(), org.under_root.clone()],
        exclude: vec![org.under_root.clone()],
        ..OrgOptions::default()
    };
    let some = scan(&org, &ep, &ep, &opts).await;
    let ids: Vec<&str> = some
        .accounts
        .iter()
        .map(|a| a.account_id.as_str())
        .collect();
    assert_eq!(ids, [org.in_ou.as_str()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_account_outside_any_organization_is_a_clear_error() {
    let Some(ep) = endpoint() else { return };
    let account = fresh_account(62);
    let sdk = sdk_config(&account, &ep, Some(REGION)).await;
    let err = collect_organization_with_sdk_config(
        &sdk,
        &options(&ep, &[REGION]),
        &OrgOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, rdsguard_collect::CollectError::NotInOrganization),
        "{err}"
    );
}

/// Every Organizations call denied in turn: a gap of kind AccessDenied in
/// `organization.gaps`, and the scan goes on (ListAccounts denied: with `--accounts` the given
/// ids are scanned; without, a clear error).
#[tokio::test(flavor = "multi_thread")]
async fn every_denied_organizations_call_is_a_gap() {
    let Some(ep) = endpoint() else { return };
    let org = build_org(&ep, 63).await;
    let only_management = OrgOptions {
        accounts: vec![org.management.clone()],
        ..OrgOptions::default()
    };
    let denied_ops: Vec<rdsguard_model::Op> = ops::ORG
        .iter()
        .copied()
        .filter(|op| op.service == "organizations")
        .collect();
    assert_eq!(denied_ops.len(), 8);
    let runs = denied_ops.iter().map(|op| {
        let (org, ep, opts) = (&org, &ep, &only_management);
        async move {
            let proxy = Proxy::start(ep, Some(Fault::Deny(*op))).await;
            let snap = scan(org, ep, &proxy.url, opts).await;
            let denied = proxy.log().iter().filter(|r| r.faulted).count();
            (*op, snap, denied)
        }
    });
    for (op, snap, denied) in futures::future::join_all(runs).await {
        assert!(denied > 0, "{op} was never called");
        let o = snap.organization.as_ref().unwrap();
        let gaps: Vec<_> = o
            .gaps
            .iter()
            .filter(|g| g.service == op.service && g.operation == op.operation)
            .collect();
        assert_eq!(gaps.len(), denied, "{op}: one gap per denied request");
        assert!(gaps.iter().all(|g| g.kind == GapKind::AccessDenied), "{op}");
        assert_eq!(snap.accounts.len(), 1, "{op}: the scan goes on");
        assert!(!snap.accounts[0].regions.is_empty(), "{op}");
    }

    let proxy = Proxy::start(&ep, Some(Fault::Deny(ops::ORGANIZATIONS_LIST_ACCOUNTS))).await;
    let sdk = sdk_config(&org.management, &ep, Some(REGION)).await;
    let err = collect_organization_with_sdk_config(
        &sdk,
        &options(&proxy.url, &[REGION]),
        &OrgOptions::default(),
        &NoProgress,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            err,
            rdsguard_collect::CollectError::OrganizationAccounts { .. }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("--accounts"), "{err}");
}
