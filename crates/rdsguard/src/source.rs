//! Obtaining a snapshot: from a file, from the bundled demo, or by collecting live.

use rdsguard_model::Snapshot;

use crate::cli::{LiveArgs, OrgArgs, SourceArgs};

/// Load or collect the snapshot the user asked for.
pub fn obtain(source: &SourceArgs) -> anyhow::Result<Snapshot> {
    if let Some(path) = &source.snapshot {
        return rdsguard_model::io::read_snapshot(path).map_err(anyhow::Error::from);
    }
    if source.demo {
        return Ok(rdsguard_demo::demo_snapshot());
    }
    collect(&source.live, &source.org)
}

/// Collect live: one account, or with `--org` the organization.
pub fn collect(live: &LiveArgs, org: &OrgArgs) -> anyhow::Result<Snapshot> {
    if org.org {
        collect_org(live, org)
    } else {
        collect_live(live)
    }
}

#[cfg(feature = "live")]
fn collect_options(live: &LiveArgs) -> rdsguard_collect::CollectOptions {
    rdsguard_collect::CollectOptions {
        profile: live.profile.clone(),
        regions: live.regions.clone(),
        all_regions: live.all_regions,
        endpoint_url: live.endpoint_url.clone(),
        concurrency: live.concurrency.max(1),
        max_attempts: live.max_attempts.max(1),
    }
}

/// Account ids from `--accounts-file`: one a line, blank lines and `#` comments ignored.
#[cfg(feature = "live")]
fn read_accounts_file(path: &std::path::Path) -> anyhow::Result<Vec<String>> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "cannot read --accounts-file {}: give a file with one account id a line",
            path.display()
        )
    })?;
    Ok(text
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

#[cfg(feature = "live")]
fn collect_org(live: &LiveArgs, org: &OrgArgs) -> anyhow::Result<Snapshot> {
    use anyhow::Context;

    use crate::progress::BarProgress;

    let mut accounts = org.accounts.clone();
    if let Some(path) = &org.accounts_file {
        accounts.extend(read_accounts_file(path)?);
    }
    let org_opts = rdsguard_collect::OrgOptions {
        role_name: org.role_name.clone(),
        external_id: org.external_id.clone(),
        accounts: accounts.iter().map(|a| a.trim().to_string()).collect(),
        exclude: org.exclude.iter().map(|a| a.trim().to_string()).collect(),
        shard: org
            .shard
            .map(|(index, count)| rdsguard_collect::Shard { index, count }),
        account_concurrency: org.account_concurrency,
        account_timeout: std::time::Duration::from_secs(org.account_timeout),
    };
    let opts = collect_options(live);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let progress = BarProgress::new();
    let (snapshot, _) = runtime
        .block_on(rdsguard_collect::collect_organization(
            &opts, &org_opts, &progress,
        ))
        .context("organization collection failed")?;
    progress.finish_summary(&snapshot);
    Ok(snapshot)
}

#[cfg(not(feature = "live"))]
fn collect_org(live: &LiveArgs, _org: &OrgArgs) -> anyhow::Result<Snapshot> {
    collect_live(live)
}

#[cfg(feature = "live")]
pub fn collect_live(live: &LiveArgs) -> anyhow::Result<Snapshot> {
    use anyhow::Context;

    use crate::progress::BarProgress;

    let opts = collect_options(live);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let progress = BarProgress::new();
    let snapshot = runtime
        .block_on(rdsguard_collect::collect(&opts, &progress))
        .context("collection failed")?;
    progress.finish_summary(&snapshot);
    Ok(snapshot)
}

#[cfg(not(feature = "live"))]
pub fn collect_live(_live: &LiveArgs) -> anyhow::Result<Snapshot> {
    anyhow::bail!(
        "this rdsguard was built without live collection (feature `live`); \
         pass --snapshot FILE or --demo, or rebuild with default features"
    )
}
