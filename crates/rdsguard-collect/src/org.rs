//! Organization scanning (`--org`): the organization seen from the management account (or a
//! delegated administrator), then every selected member account collected with a role assumed
//! in it, all merged into one snapshot keyed by account.
//!
//! What is read from Organizations, with calls proportional to OUs and policies, not accounts:
//! DescribeOrganization, ListRoots (enabled policy types), ListAccounts (the ACTIVE accounts and
//! their names), the tree (ListOrganizationalUnitsForParent and ListAccountsForParent from each
//! root, level by level), and for service and resource control policies ListPolicies,
//! DescribePolicy (the document) and ListTargetsForPolicy (where it is attached). Every
//! failure is a gap in `OrganizationData::gaps`; an organization without RCP support gives an
//! `Unsupported` gap, not an error.
//!
//! Accounts: `sts:AssumeRole` into `arn:{partition}:iam::{id}:role/{role}` (session name
//! `rdsguard-<run id>`, external id when given), then the single-account collection with
//! those credentials. The account the caller's credentials belong to (usually the management
//! account, where `OrganizationAccountAccessRole` does not exist) is collected with the
//! caller's own credentials. An account whose role cannot be assumed, or whose collection
//! fails or times out, is kept in the snapshot with no regions and an account gap saying why,
//! so the audit reports it NOT_ASSESSED instead of dropping it.
//!
//! Bounds: one semaphore limits the requests in flight across all accounts and regions, a
//! bounded number of accounts is collected at a time, each account has a deadline, and each
//! account has its own adaptive retry partition, so a slow, throttled or failing account never
//! stalls the others.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_organizations::types::{AccountStatus, PolicyType, TargetType};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use aws_smithy_types::date_time::{DateTime, Format};
use aws_types::SdkConfig;
use futures::StreamExt;
use rdsguard_model::{
    AccountSnapshot, Gap, GapKind, OrgPolicy, OrgTarget, OrganizationData, RESOURCE_CONTROL_POLICY,
    SERVICE_CONTROL_POLICY, Snapshot, SnapshotSource, ops,
};

use crate::call::{Ctx, Gaps, Scope, one_line};
use crate::clients::{self, Clients};
use crate::{
    CollectError, CollectOptions, CollectStats, NoProgress, Progress, account_gap_count,
    collect_account, identify, validate,
};

/// The role AWS Organizations creates in every account it creates.
pub const DEFAULT_ROLE_NAME: &str = "OrganizationAccountAccessRole";

/// What to scan in the organization, and how.
#[derive(Debug, Clone)]
pub struct OrgOptions {
    /// Role assumed in each member account (`--role-name`).
    pub role_name: String,
    /// External id required by the role's trust policy (`--external-id`).
    pub external_id: Option<String>,
    /// Only these account ids (`--accounts`, `--accounts-file`); empty = every ACTIVE account.
    pub accounts: Vec<String>,
    /// Never these account ids (`--exclude`).
    pub exclude: Vec<String>,
    /// Only this deterministic share of the selected accounts (`--shard i/n`).
    pub shard: Option<Shard>,
    /// Accounts collected at the same time (their requests share `CollectOptions::concurrency`).
    pub account_concurrency: usize,
    /// Deadline of one account; past it the account is reported as not assessed. Kept below
    /// the one-hour lifetime of the assumed-role credentials.
    pub account_timeout: Duration,
}

/// Longest `account_timeout`: AssumeRole credentials last one hour by default and are not
/// refreshed during an account's collection.
pub const MAX_ACCOUNT_TIMEOUT: Duration = Duration::from_secs(55 * 60);

impl Default for OrgOptions {
    fn default() -> Self {
        OrgOptions {
            role_name: DEFAULT_ROLE_NAME.to_string(),
            external_id: None,
            accounts: Vec::new(),
            exclude: Vec::new(),
            shard: None,
            account_concurrency: 8,
            account_timeout: Duration::from_secs(30 * 60),
        }
    }
}

/// Shard `index` of `count` (`--shard i/n`, 0-based): the accounts whose 12-digit id, as a
/// number, is `index` modulo `count`. Membership depends on the account id alone, so shards are
/// disjoint, together cover every account, and adding or removing accounts never moves the
/// other accounts between shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    pub fn contains(&self, account_id: &str) -> bool {
        shard_key(account_id) % self.count == self.index
    }
}

/// An account id as a number; anything else (never an AWS account id) by a stable hash.
fn shard_key(account_id: &str) -> u64 {
    account_id.parse::<u64>().unwrap_or_else(|_| {
        // FNV-1a: stable across runs and platforms, unlike the std hasher.
        account_id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        })
    })
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = || format!("invalid shard {s:?}: expected INDEX/COUNT with 0 <= INDEX < COUNT");
        let (i, n) = s.split_once('/').ok_or_else(usage)?;
        let index: u64 = i.trim().parse().map_err(|_| usage())?;
        let count: u64 = n.trim().parse().map_err(|_| usage())?;
        if count == 0 || index >= count {
            return Err(usage());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Collect the organization the standard credential chain (or `opts.profile`) belongs to.
pub async fn collect_organization(
    opts: &CollectOptions,
    org: &OrgOptions,
    progress: &dyn Progress,
) -> Result<(Snapshot, CollectStats), CollectError> {
    validate(opts)?;
    let base = clients::load_sdk_config(opts).await;
    collect_organization_with_sdk_config(&base, opts, org, progress).await
}

/// [`collect_organization`] with the caller's credentials and region from `base`.
pub async fn collect_organization_with_sdk_config(
    base: &SdkConfig,
    opts: &CollectOptions,
    org: &OrgOptions,
    progress: &dyn Progress,
) -> Result<(Snapshot, CollectStats), CollectError> {
    let started = Instant::now();
    validate(opts)?;
    validate_org(org)?;
    let collected_at = DateTime::from(SystemTime::now())
        .fmt(Format::DateTime)
        .unwrap_or_default();
    let attempts = Arc::new(AtomicU64::new(0));
    let caller_clients = Clients::new(base, opts, attempts.clone())?;
    // Per-operation progress of one account means nothing across hundreds: the progress
    // reports accounts instead.
    let ctx = Ctx::new(opts.concurrency, &NoProgress);
    let (caller_account, partition) = identify(&ctx, &caller_clients).await?;

    progress.message("reading the organization");
    let view = read_organization(&ctx, &caller_clients.organizations()).await?;
    let selected = select_accounts(&view, org)?;

    progress.accounts_start(selected.len() as u64);
    let session_name = session_name();
    let member = Member {
        ctx: &ctx,
        caller: &caller_clients,
        caller_account: &caller_account,
        partition: &partition,
        opts,
        org,
        session_name: &session_name,
        attempts: &attempts,
    };
    let mut accounts: Vec<AccountSnapshot> = futures::stream::iter(selected)
        .map(|(account_id, name)| {
            let (member, partition) = (&member, partition.as_str());
            let path = view.paths.get(&account_id).cloned().unwrap_or_default();
            async move {
                let outcome =
                    tokio::time::timeout(org.account_timeout, member.collect(&account_id)).await;
                let mut account = match outcome {
                    Ok(account) => account,
                    Err(_) => not_assessed(
                        &account_id,
                        partition,
                        Gap::new(
                            ops::RDSGUARD_COLLECT_ACCOUNT,
                            None,
                            GapKind::Error,
                            format!(
                                "the account's collection did not finish within {}s \
                                 (--account-timeout); its partial data was discarded",
                                org.account_timeout.as_secs()
                            ),
                        ),
                    ),
                };
                account.name = name;
                account.org_path = path;
                let failed = account.regions.is_empty() && !account.gaps.is_empty();
                progress.account_done(&account.account_id, failed);
                account
            }
        })
        .buffer_unordered(org.account_concurrency)
        .collect()
        .await;
    accounts.sort_by(|a, b| a.account_id.cmp(&b.account_id));

    let mut regions: Vec<String> = accounts
        .iter()
        .flat_map(|a| a.regions.iter().map(|r| r.region.clone()))
        .collect();
    regions.sort();
    regions.dedup();
    let gaps = accounts.iter().map(account_gap_count).sum::<u64>() + view.data.gaps.len() as u64;
    let mut snapshot = Snapshot::new(
        SnapshotSource {
            kind: "live".into(),
            endpoint_url: opts.endpoint_url.clone(),
            regions: regions.clone(),
        },
        collected_at,
    );
    snapshot.organization = Some(view.data);
    snapshot.accounts = accounts;
    progress.finish();
    let stats = CollectStats {
        api_calls: ctx.api_calls.load(Ordering::Relaxed),
        http_attempts: attempts.load(Ordering::Relaxed),
        gaps,
        regions: regions.len() as u64,
        elapsed: started.elapsed(),
    };
    Ok((snapshot, stats))
}

fn validate_org(org: &OrgOptions) -> Result<(), CollectError> {
    let invalid = |m: &str| Err(CollectError::InvalidOption(m.to_string()));
    if org.account_concurrency == 0 {
        return invalid("account concurrency must be at least 1");
    }
    if org.account_timeout.is_zero() || org.account_timeout > MAX_ACCOUNT_TIMEOUT {
        return invalid(
            "the account timeout must be between 1 second and 55 minutes (assumed-role \
             credentials last one hour)",
        );
    }
    let role_ok = !org.role_name.is_empty()
        && org
            .role_name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c));
    if !role_ok {
        return invalid("the role name must be a non-empty IAM role name (optionally with a path)");
    }
    for id in org.accounts.iter().chain(&org.exclude) {
        if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CollectError::InvalidOption(format!(
                "{id:?} is not a 12-digit AWS account id"
            )));
        }
    }
    Ok(())
}

/// `rdsguard-` and a short id of this run, so CloudTrail shows which sessions were rdsguard's
/// and which run made them.
fn session_name() -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "rdsguard-{:08x}",
        (nanos ^ u128::from(std::process::id())) as u32
    )
}

/// What the organization says, before any account is collected.
struct OrgView {
    data: OrganizationData,
    /// ACTIVE accounts with their names, in listing order; `None` when ListAccounts failed.
    accounts: Option<Vec<(String, Option<String>)>>,
    /// Account id → its path, root first, account last, with attached policy ids.
    paths: HashMap<String, Vec<OrgTarget>>,
}

type OrgClient = aws_sdk_organizations::Client;

async fn read_organization(ctx: &Ctx<'_>, client: &OrgClient) -> Result<OrgView, CollectError> {
    let gaps = Gaps::default();
    let described = ctx
        .call(
            ops::ORGANIZATIONS_DESCRIBE_ORGANIZATION,
            Scope::global(),
            client.describe_organization().send(),
        )
        .await;
    let mut data = OrganizationData::default();
    match described {
        Ok(out) => {
            if let Some(o) = out.organization() {
                data.id = o.id().unwrap_or_default().to_string();
                data.arn = o.arn().map(str::to_string);
                data.management_account_id = o.master_account_id().map(str::to_string);
            }
        }
        Err(gap) if gap.error_code.as_deref() == Some("AWSOrganizationsNotInUseException") => {
            return Err(CollectError::NotInOrganization);
        }
        Err(gap) => gaps.push(gap),
    }

    let (roots, accounts, policies) = futures::join!(
        list_roots(ctx, client, &gaps),
        list_active_accounts(ctx, client, &gaps),
        collect_policies(ctx, client, &gaps),
    );
    let (policies, attachments) = policies;
    let mut enabled: Vec<String> = Vec::new();
    for root in &roots {
        for t in root.policy_types() {
            let on = t
                .status()
                .is_some_and(|s| s.as_str().eq_ignore_ascii_case("ENABLED"));
            if let (true, Some(kind)) = (on, t.r#type())
                && !enabled.iter().any(|e| e == kind.as_str())
            {
                enabled.push(kind.as_str().to_string());
            }
        }
    }
    let paths = walk_tree(ctx, client, &roots, &attachments, &gaps).await;

    data.enabled_policy_types = enabled;
    data.policies = policies;
    data.gaps = gaps.into_sorted();
    Ok(OrgView {
        data,
        accounts,
        paths,
    })
}

async fn list_roots(
    ctx: &Ctx<'_>,
    client: &OrgClient,
    gaps: &Gaps,
) -> Vec<aws_sdk_organizations::types::Root> {
    let pages = ctx
        .pages(
            ops::ORGANIZATIONS_LIST_ROOTS,
            Scope::global(),
            client.list_roots().into_paginator().send(),
        )
        .await;
    gaps.ok(pages)
        .unwrap_or_default()
        .iter()
        .flat_map(|p| p.roots().to_vec())
        .collect()
}

async fn list_active_accounts(
    ctx: &Ctx<'_>,
    client: &OrgClient,
    gaps: &Gaps,
) -> Option<Vec<(String, Option<String>)>> {
    let pages = ctx
        .pages(
            ops::ORGANIZATIONS_LIST_ACCOUNTS,
            Scope::global(),
            client.list_accounts().into_paginator().send(),
        )
        .await;
    let pages = gaps.ok(pages)?;
    Some(
        pages
            .iter()
            .flat_map(|p| p.accounts())
            .filter(|a| a.status().is_none_or(|s| *s == AccountStatus::Active))
            .filter_map(|a| Some((a.id()?.to_string(), a.name().map(str::to_string))))
            .collect(),
    )
}

/// Every SCP and RCP with its document, and target id → attached policy ids.
async fn collect_policies(
    ctx: &Ctx<'_>,
    client: &OrgClient,
    gaps: &Gaps,
) -> (Vec<OrgPolicy>, HashMap<String, Vec<String>>) {
    let mut policies = Vec::new();
    let mut attachments: HashMap<String, Vec<String>> = HashMap::new();
    for policy_type in [SERVICE_CONTROL_POLICY, RESOURCE_CONTROL_POLICY] {
        let listed = ctx
            .pages(
                ops::ORGANIZATIONS_LIST_POLICIES,
                Scope {
                    region: None,
                    resource: Some(policy_type),
                },
                client
                    .list_policies()
                    .filter(PolicyType::from(policy_type))
                    .into_paginator()
                    .send(),
            )
            .await;
        let summaries: Vec<_> = match listed {
            Ok(pages) => pages.iter().flat_map(|p| p.policies().to_vec()).collect(),
            Err(mut gap) => {
                // Partitions and emulators without RCPs reject the filter value: the type is
                // unsupported there, which is not the same as "no policies".
                if policy_type == RESOURCE_CONTROL_POLICY
                    && matches!(gap.error_code.as_deref(), Some("InvalidInputException"))
                {
                    gap.kind = GapKind::Unsupported;
                }
                gaps.push(gap);
                continue;
            }
        };
        let details = futures::future::join_all(summaries.iter().map(|summary| async move {
            let id = summary.id().unwrap_or_default();
            let scope = Scope {
                region: None,
                resource: Some(id),
            };
            let (described, targets) = futures::join!(
                ctx.call(
                    ops::ORGANIZATIONS_DESCRIBE_POLICY,
                    scope,
                    client.describe_policy().policy_id(id).send(),
                ),
                ctx.pages(
                    ops::ORGANIZATIONS_LIST_TARGETS_FOR_POLICY,
                    scope,
                    client
                        .list_targets_for_policy()
                        .policy_id(id)
                        .into_paginator()
                        .send(),
                ),
            );
            (summary, described, targets)
        }))
        .await;
        for (summary, described, targets) in details {
            let id = summary.id().unwrap_or_default().to_string();
            let content = gaps
                .ok(described)
                .and_then(|d| d.policy().and_then(|p| p.content()).map(str::to_string));
            if let Some(pages) = gaps.ok(targets) {
                for t in pages.iter().flat_map(|p| p.targets()) {
                    if let Some(target) = t.target_id() {
                        attachments
                            .entry(target.to_string())
                            .or_default()
                            .push(id.clone());
                    }
                }
            }
            policies.push(OrgPolicy {
                id,
                arn: summary.arn().map(str::to_string),
                name: summary.name().map(str::to_string),
                policy_type: policy_type.to_string(),
                aws_managed: summary.aws_managed(),
                content,
            });
        }
    }
    for ids in attachments.values_mut() {
        ids.sort();
        ids.dedup();
    }
    (policies, attachments)
}

/// The tree from each root, one level at a time (every parent of a level concurrently):
/// account id → path. An account under a parent whose listing failed has no path (the gap
/// says why); its policies are then unknown, never assumed absent.
async fn walk_tree(
    ctx: &Ctx<'_>,
    client: &OrgClient,
    roots: &[aws_sdk_organizations::types::Root],
    attachments: &HashMap<String, Vec<String>>,
    gaps: &Gaps,
) -> HashMap<String, Vec<OrgTarget>> {
    let node = |id: &str, kind: &str, name: Option<&str>| OrgTarget {
        id: id.to_string(),
        kind: kind.to_string(),
        name: name.map(str::to_string),
        policy_ids: attachments.get(id).cloned().unwrap_or_default(),
    };
    let mut paths: HashMap<String, Vec<OrgTarget>> = HashMap::new();
    // (parent id, path down to and including the parent)
    let mut frontier: Vec<(String, Vec<OrgTarget>)> = roots
        .iter()
        .filter_map(|r| {
            let id = r.id()?;
            Some((id.to_string(), vec![node(id, "ROOT", r.name())]))
        })
        .collect();
    while !frontier.is_empty() {
        let level = futures::future::join_all(frontier.iter().map(|(parent, _)| async move {
            let scope = Scope {
                region: None,
                resource: Some(parent.as_str()),
            };
            futures::join!(
                ctx.pages(
                    ops::ORGANIZATIONS_LIST_ORGANIZATIONAL_UNITS_FOR_PARENT,
                    scope,
                    client
                        .list_organizational_units_for_parent()
                        .parent_id(parent)
                        .into_paginator()
                        .send(),
                ),
                ctx.pages(
                    ops::ORGANIZATIONS_LIST_ACCOUNTS_FOR_PARENT,
                    scope,
                    client
                        .list_accounts_for_parent()
                        .parent_id(parent)
                        .into_paginator()
                        .send(),
                ),
            )
        }))
        .await;
        let mut next = Vec::new();
        for ((_, parent_path), (ous, accounts)) in frontier.iter().zip(level) {
            if let Some(pages) = gaps.ok(accounts) {
                for a in pages.iter().flat_map(|p| p.accounts()) {
                    let Some(id) = a.id() else { continue };
                    let mut path = parent_path.clone();
                    path.push(node(id, TargetType::Account.as_str(), a.name()));
                    paths.insert(id.to_string(), path);
                }
            }
            if let Some(pages) = gaps.ok(ous) {
                for ou in pages.iter().flat_map(|p| p.organizational_units()) {
                    let Some(id) = ou.id() else { continue };
                    let mut path = parent_path.clone();
                    path.push(node(id, TargetType::OrganizationalUnit.as_str(), ou.name()));
                    next.push((id.to_string(), path));
                }
            }
        }
        frontier = next;
    }
    paths
}

/// The accounts to collect, with their names: the organization's ACTIVE accounts (or those
/// given), minus the excluded ones, then the shard.
fn select_accounts(
    view: &OrgView,
    org: &OrgOptions,
) -> Result<Vec<(String, Option<String>)>, CollectError> {
    let listed: Option<BTreeMap<&str, Option<&String>>> = view.accounts.as_ref().map(|v| {
        v.iter()
            .map(|(id, name)| (id.as_str(), name.as_ref()))
            .collect()
    });
    let mut chosen: Vec<(String, Option<String>)> = if org.accounts.is_empty() {
        match &listed {
            Some(all) => all
                .iter()
                .map(|(id, name)| (id.to_string(), name.cloned()))
                .collect(),
            None => {
                let reason = view
                    .data
                    .gaps
                    .iter()
                    .find(|g| g.operation == ops::ORGANIZATIONS_LIST_ACCOUNTS.operation)
                    .map(Gap::describe)
                    .unwrap_or_else(|| "organizations:ListAccounts failed".into());
                return Err(CollectError::OrganizationAccounts { detail: reason });
            }
        }
    } else {
        let mut chosen = Vec::new();
        for id in &org.accounts {
            match &listed {
                // Without the listing the given ids are trusted as they are.
                None => chosen.push((id.clone(), None)),
                Some(all) => match all.get(id.as_str()) {
                    Some(name) => chosen.push((id.clone(), name.cloned())),
                    None => {
                        return Err(CollectError::InvalidOption(format!(
                            "account {id} is not an ACTIVE account of organization {}",
                            view.data.id
                        )));
                    }
                },
            }
        }
        chosen
    };
    chosen.retain(|(id, _)| !org.exclude.contains(id));
    if let Some(shard) = org.shard {
        chosen.retain(|(id, _)| shard.contains(id));
    }
    chosen.sort();
    chosen.dedup_by(|a, b| a.0 == b.0);
    Ok(chosen)
}

/// Everything needed to collect one member account.
struct Member<'a, 'p> {
    ctx: &'a Ctx<'p>,
    caller: &'a Clients,
    caller_account: &'a str,
    partition: &'a str,
    opts: &'a CollectOptions,
    org: &'a OrgOptions,
    session_name: &'a str,
    attempts: &'a Arc<AtomicU64>,
}

impl Member<'_, '_> {
    /// The account's snapshot; on failure an account with no regions and the gap that says
    /// why (it is then reported NOT_ASSESSED, never dropped).
    async fn collect(&self, account_id: &str) -> AccountSnapshot {
        let clients = if account_id == self.caller_account {
            // The caller's own account (typically the management account, where the member
            // role does not exist): its own credentials.
            None
        } else {
            match self.assume(account_id).await {
                Ok(clients) => Some(clients),
                Err(gap) => return not_assessed(account_id, self.partition, gap),
            }
        };
        let collected =
            collect_account(self.ctx, clients.as_ref().unwrap_or(self.caller), self.opts).await;
        match collected {
            Ok(account) if account.account_id == account_id => account,
            Ok(account) => not_assessed(
                account_id,
                self.partition,
                Gap::new(
                    ops::STS_GET_CALLER_IDENTITY,
                    None,
                    GapKind::Error,
                    format!(
                        "the assumed role's credentials belong to account {}, not {account_id}",
                        account.account_id
                    ),
                ),
            ),
            Err(e) => not_assessed(
                account_id,
                self.partition,
                Gap::new(
                    ops::STS_GET_CALLER_IDENTITY,
                    None,
                    GapKind::Error,
                    one_line(&e.to_string()),
                ),
            ),
        }
    }

    async fn assume(&self, account_id: &str) -> Result<Clients, Gap> {
        let role_arn = format!(
            "arn:{}:iam::{account_id}:role/{}",
            self.partition,
            self.org.role_name.trim_matches('/')
        );
        let assumed = self
            .ctx
            .call(
                ops::STS_ASSUME_ROLE,
                Scope::global(),
                self.caller
                    .sts
                    .assume_role()
                    .role_arn(&role_arn)
                    .role_session_name(self.session_name)
                    .set_external_id(self.org.external_id.clone())
                    .send(),
            )
            .await
            .map_err(|mut gap| {
                gap.message = format!("cannot assume {role_arn}: {}", gap.message);
                gap
            })?;
        let no_credentials = || {
            Gap::new(
                ops::STS_ASSUME_ROLE,
                None,
                GapKind::Error,
                format!("AssumeRole into {role_arn} returned no credentials"),
            )
        };
        let c = assumed.credentials().ok_or_else(no_credentials)?;
        let expiry = SystemTime::try_from(*c.expiration()).ok();
        let credentials = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            expiry,
            "rdsguard-org-member",
        );
        let config = self
            .caller
            .sdk_config()
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials))
            .build();
        Clients::with_partition(
            &config,
            self.opts,
            self.attempts.clone(),
            Some(account_id.to_string()),
        )
        .map_err(|e| {
            Gap::new(
                ops::STS_ASSUME_ROLE,
                None,
                GapKind::Error,
                one_line(&e.to_string()),
            )
        })
    }
}

/// An account that could not be collected: no regions, one gap with the reason.
fn not_assessed(account_id: &str, partition: &str, gap: Gap) -> AccountSnapshot {
    AccountSnapshot {
        account_id: account_id.to_string(),
        partition: partition.to_string(),
        iam: None,
        regions: Vec::new(),
        gaps: vec![gap],
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_parsed_and_partition_accounts_stably() {
        assert_eq!("2/5".parse::<Shard>(), Ok(Shard { index: 2, count: 5 }));
        for bad in ["5/5", "1/0", "x/2", "3", "-1/2", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
        let ids: Vec<String> = (0..200u64)
            .map(|i| format!("{:012}", 100_000_000_000 + i * 7_919))
            .collect();
        let shards: Vec<Shard> = (0..4).map(|index| Shard { index, count: 4 }).collect();
        for id in &ids {
            let owners = shards.iter().filter(|s| s.contains(id)).count();
            assert_eq!(owners, 1, "{id} must be in exactly one shard");
        }
        // Every shard gets a share; none is empty for evenly spread ids.
        for s in &shards {
            let n = ids.iter().filter(|id| s.contains(id)).count();
            assert!(n > 20, "shard {s} has {n} of 200");
        }
        // Membership depends on the id alone (stable when accounts are added).
        assert!(Shard { index: 1, count: 4 }.contains("000000000005"));
        assert_eq!(
            shard_key("not-an-id") % 4,
            shard_key("not-an-id") % 4,
            "non-numeric ids hash deterministically"
        );
    }

    fn view(accounts: &[&str]) -> OrgView {
        OrgView {
            data: OrganizationData {
                id: "o-test".into(),
                ..Default::default()
            },
            accounts: Some(
                accounts
                    .iter()
                    .map(|a| (a.to_string(), Some(format!("name-{a}"))))
                    .collect(),
            ),
            paths: HashMap::new(),
        }
    }

    #[test]
    fn selection_applies_accounts_exclude_and_shard() {
        let v = view(&["111111111111", "222222222222", "333333333333"]);
        let ids = |sel: Vec<(String, Option<String>)>| -> Vec<String> {
            sel.into_iter().map(|(id, _)| id).collect()
        };
        let all = select_accounts(&v, &OrgOptions::default()).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].1.as_deref(), Some("name-111111111111"));

        let org = OrgOptions {
            exclude: vec!["222222222222".into()],
            ..Default::default()
        };
        assert_eq!(
            ids(select_accounts(&v, &org).unwrap()),
            ["111111111111", "333333333333"]
        );

        let org = OrgOptions {
            accounts: vec!["333333333333".into()],
            ..Default::default()
        };
        assert_eq!(ids(select_accounts(&v, &org).unwrap()), ["333333333333"]);

        let org = OrgOptions {
            accounts: vec!["444444444444".into()],
            ..Default::default()
        };
        let err = select_accounts(&v, &org).unwrap_err().to_string();
        assert!(err.contains("444444444444"), "{err}");

        // 111111111111 % 2 = 1, 222222222222 % 2 = 0, 333333333333 % 2 = 1
        let org = OrgOptions {
            shard: Some(Shard { index: 0, count: 2 }),
            ..Default::default()
        };
        assert_eq!(ids(select_accounts(&v, &org).unwrap()), ["222222222222"]);

        let mut unlisted = view(&[]);
        unlisted.accounts = None;
        assert!(matches!(
            select_accounts(&unlisted, &OrgOptions::default()),
            Err(CollectError::OrganizationAccounts { .. })
        ));
    }

    #[test]
    fn options_are_validated() {
        let bad = [
            OrgOptions {
                account_concurrency: 0,
                ..Default::default()
            },
            OrgOptions {
                account_timeout: Duration::from_secs(3 * 3600),
                ..Default::default()
            },
            OrgOptions {
                role_name: "bad name".into(),
                ..Default::default()
            },
            OrgOptions {
                accounts: vec!["12345".into()],
                ..Default::default()
            },
        ];
        for org in bad {
            assert!(validate_org(&org).is_err(), "{org:?}");
        }
        assert!(validate_org(&OrgOptions::default()).is_ok());
        assert!(session_name().starts_with("rdsguard-"));
    }
}
