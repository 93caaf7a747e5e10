//! `rdsguard fix`: audit → plan (the exact AWS calls) → with `--apply` and a confirmation,
//! apply with a journal → re-audit and show what now passes. `--resume JOURNAL` finishes an
//! interrupted run. The work is in `rdsguard-fix`; this module parses, prints and asks.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rdsguard_fix::{FixOptions, IamGrant, IamPrincipal, Plan};

use crate::cli::{OutputFormat, SourceArgs};

#[derive(Debug, Args)]
#[command(
    after_help = "Without --apply nothing is changed: the plan is printed (and written with \
    --plan-out). With --apply, rdsguard asks for confirmation on a terminal (or takes --yes), \
    journals every call, stops at the first failure and tells how to resume (--resume JOURNAL) \
    or roll back. Nothing is ever deleted."
)]
pub struct FixArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    /// Configuration file (backup retention minimum, trusted accounts). Default: ./rdsguard.toml.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Only fix these checks (repeatable; `*` wildcards allowed).
    #[arg(long = "check", value_name = "ID")]
    pub checks: Vec<String>,
    /// Only fix these resources: DB instance, cluster or snapshot identifiers or ARNs (repeatable).
    #[arg(long = "db", value_name = "ID|ARN")]
    pub dbs: Vec<String>,
    /// Apply the plan (after confirmation). Needs live access.
    #[arg(long)]
    pub apply: bool,
    /// Do not ask for confirmation (scripts, CI).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Finish the run a journal records (after a failure or an interruption).
    #[arg(long, value_name = "JOURNAL", conflicts_with_all = ["apply", "snapshot", "demo"])]
    pub resume: Option<PathBuf>,
    /// Journal file for --apply (mode 0600). Default: rdsguard-fix-<time>.journal.
    #[arg(long, value_name = "FILE")]
    pub journal: Option<PathBuf>,
    /// With --resume: the plan written earlier by --plan-out; a journal of any other plan is
    /// refused.
    #[arg(long, value_name = "FILE", requires = "resume")]
    pub plan: Option<PathBuf>,
    /// Write the plan as JSON to FILE (mode 0600).
    #[arg(long, value_name = "FILE")]
    pub plan_out: Option<PathBuf>,
    /// Plan format on standard output.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Network: CIDR allowed to reach the database port (repeatable). Default: the non-internet
    /// sources the current groups allow.
    #[arg(
        long = "allow-cidr",
        value_name = "CIDR",
        help_heading = "Remediation choices"
    )]
    pub allow_cidrs: Vec<String>,
    /// Network: security group allowed to reach the database port (repeatable).
    #[arg(
        long = "allow-sg",
        value_name = "SG_ID",
        help_heading = "Remediation choices"
    )]
    pub allow_sgs: Vec<String>,
    /// Network: outbound CIDR of the dedicated group (repeatable). Default: the VPC's CIDRs.
    #[arg(
        long = "egress-cidr",
        value_name = "CIDR",
        help_heading = "Remediation choices"
    )]
    pub egress_cidrs: Vec<String>,
    /// TLS: the CA to move instances to.
    #[arg(long, value_name = "CA", default_value = rdsguard_fix::options::DEFAULT_CA, help_heading = "Remediation choices")]
    pub ca: String,
    /// TLS: reboot instances whose new parameter group waits for a reboot.
    #[arg(long, help_heading = "Remediation choices")]
    pub reboot: bool,
    /// Encryption: alias of the customer managed key to create or reuse.
    #[arg(long, value_name = "ALIAS", default_value = rdsguard_fix::options::DEFAULT_KMS_ALIAS, help_heading = "Remediation choices")]
    pub kms_alias: String,
    /// Encryption: use this existing key (ARN) instead.
    #[arg(long, value_name = "ARN", help_heading = "Remediation choices")]
    pub kms_key: Option<String>,
    /// Encryption: key administrator (ARN, repeatable). Default: the account (IAM decides).
    #[arg(
        long = "key-admin",
        value_name = "ARN",
        help_heading = "Remediation choices"
    )]
    pub key_admins: Vec<String>,
    /// Encryption: principal that may use the key through RDS (ARN, repeatable).
    #[arg(
        long = "key-user",
        value_name = "ARN",
        help_heading = "Remediation choices"
    )]
    pub key_users: Vec<String>,
    /// IAM: create the least-privilege policy for these actions (comma-separated) on --iam-db.
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "ACTIONS",
        requires = "iam_db",
        help_heading = "IAM policy"
    )]
    pub iam_allow: Vec<String>,
    /// IAM: the DB instance the policy is scoped to.
    #[arg(
        long,
        value_name = "ID|ARN",
        requires = "iam_allow",
        help_heading = "IAM policy"
    )]
    pub iam_db: Option<String>,
    /// IAM: attach the policy to this user (created if missing).
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with = "iam_role",
        help_heading = "IAM policy"
    )]
    pub iam_user: Option<String>,
    /// IAM: attach the policy to this role (created if missing).
    #[arg(long, value_name = "NAME", help_heading = "IAM policy")]
    pub iam_role: Option<String>,
    /// IAM: who may assume a new role: a service (ec2.amazonaws.com) or an account id.
    #[arg(
        long,
        value_name = "PRINCIPAL",
        default_value = "ec2.amazonaws.com",
        help_heading = "IAM policy"
    )]
    pub iam_role_trust: String,
    /// IAM: allow creating instances only with storage encryption.
    #[arg(long, help_heading = "IAM policy")]
    pub iam_require_encryption: bool,
}

pub fn run(args: FixArgs) -> anyhow::Result<ExitCode> {
    if let Some(journal) = &args.resume {
        return resume(&args, journal);
    }
    if args.apply && (args.source.snapshot.is_some() || args.source.demo) {
        anyhow::bail!(
            "--apply changes a live account, so the plan must come from a live collection: drop \
             --snapshot/--demo (they are for planning only)"
        );
    }
    let config = if args.config.is_none() && args.source.demo {
        rdsguard_checks::Config::from_toml_str(
            rdsguard_demo::demo_config_toml(),
            Path::new("<bundled demo rdsguard.toml>"),
        )?
    } else {
        crate::commands::audit::config_file(args.config.as_deref())?
    };
    let opts = options(&args, &config)?;
    let snapshot = crate::source::obtain(&args.source)?;
    let defs = rdsguard_checks::check_defs();
    let before = crate::commands::audit::audit(&snapshot, &config, &defs);
    let plan =
        rdsguard_fix::plan(&snapshot, &before.findings, &opts).context("cannot plan the fix")?;
    print_plan(&plan, args.format)?;
    if let Some(path) = &args.plan_out {
        let json = serde_json::to_string_pretty(&plan)? + "\n";
        crate::output::emit(&json, Some(path))?;
        eprintln!("plan written to {}", path.display());
    }
    if !args.apply {
        if !plan.is_empty() {
            eprintln!("\nNothing was changed. Apply this plan with --apply.");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if plan.is_empty() {
        eprintln!("Nothing to apply.");
        return Ok(ExitCode::SUCCESS);
    }
    if !cfg!(feature = "live") {
        anyhow::bail!(
            "this rdsguard was built without live AWS access (feature `live`); rebuild with \
             default features to apply plans"
        );
    }
    confirm(&plan, args.yes)?;
    let journal_path = args.journal.clone().unwrap_or_else(default_journal);
    let journal = rdsguard_fix::Journal::create(&journal_path, &plan)?;
    eprintln!("journal: {}", journal_path.display());
    live::apply_and_reaudit(&args, journal, &config)
}

fn resume(args: &FixArgs, path: &Path) -> anyhow::Result<ExitCode> {
    let expected = match &args.plan {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read plan {}", p.display()))?;
            Some(serde_json::from_str::<Plan>(&text).with_context(|| {
                format!(
                    "{} is not a plan written by rdsguard fix --plan-out",
                    p.display()
                )
            })?)
        }
        None => None,
    };
    let journal = rdsguard_fix::Journal::open(path, expected.as_ref())?;
    let state = &journal.state;
    eprintln!(
        "resuming plan {} from {}: {} of {} steps done{}",
        &state.plan_hash[..12],
        path.display(),
        state.succeeded.len(),
        state.plan.steps.len(),
        match &state.failed {
            Some((step, err)) => format!("; last failure at {step}: {err}"),
            None => String::new(),
        }
    );
    if state.finished {
        eprintln!("this run already finished; nothing to resume");
        return Ok(ExitCode::SUCCESS);
    }
    let config = crate::commands::audit::config_file(args.config.as_deref())?;
    live::apply_and_reaudit(args, journal, &config)
}

fn options(args: &FixArgs, config: &rdsguard_checks::Config) -> anyhow::Result<FixOptions> {
    let principal = match (&args.iam_user, &args.iam_role) {
        (Some(u), _) => Some(IamPrincipal::User(u.clone())),
        (None, Some(r)) => Some(IamPrincipal::Role {
            name: r.clone(),
            trusted: args.iam_role_trust.clone(),
        }),
        (None, None) => None,
    };
    let iam = match (&args.iam_db, principal) {
        (None, _) => None,
        (Some(_), None) => {
            anyhow::bail!("--iam-allow/--iam-db need --iam-user NAME or --iam-role NAME")
        }
        (Some(db), Some(principal)) => Some(IamGrant {
            db: db.clone(),
            actions: args.iam_allow.clone(),
            principal,
            require_encryption: args.iam_require_encryption,
            kms_key: args.kms_key.clone(),
        }),
    };
    Ok(FixOptions {
        checks: args.checks.clone(),
        dbs: args.dbs.clone(),
        allow_cidrs: args.allow_cidrs.clone(),
        allow_security_groups: args.allow_sgs.clone(),
        egress_cidrs: args.egress_cidrs.clone(),
        ca_certificate: args.ca.clone(),
        reboot: args.reboot,
        kms_alias: args.kms_alias.clone(),
        kms_key: args.kms_key.clone(),
        key_admins: args.key_admins.clone(),
        key_users: args.key_users.clone(),
        iam,
        ..FixOptions::from_config(config)
    })
}

fn print_plan(plan: &Plan, format: OutputFormat) -> anyhow::Result<()> {
    let text = match format {
        OutputFormat::Json => serde_json::to_string_pretty(plan)? + "\n",
        OutputFormat::Table => rdsguard_fix::render::plan_text(plan),
    };
    crate::output::emit(&text, None)
}

fn confirm(plan: &Plan, yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "refusing to apply without confirmation: standard input is not a terminal; pass \
             --yes to apply this plan"
        );
    }
    let accounts: std::collections::BTreeSet<&str> =
        plan.steps.iter().map(|s| s.account_id.as_str()).collect();
    eprint!(
        "\nApply these {} calls to account {}? Type `yes` to continue: ",
        plan.steps.len(),
        accounts.into_iter().collect::<Vec<_>>().join(", ")
    );
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .context("cannot read the confirmation")?;
    if answer.trim() != "yes" {
        anyhow::bail!("not confirmed; nothing was changed");
    }
    Ok(())
}

fn default_journal() -> PathBuf {
    let now = time::OffsetDateTime::now_utc();
    PathBuf::from(format!(
        "rdsguard-fix-{:04}{:02}{:02}T{:02}{:02}{:02}Z.journal",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    ))
}

#[cfg(feature = "live")]
mod live {
    use std::process::ExitCode;

    use anyhow::Context;
    use rdsguard_fix::aws::{ConnectOptions, SdkExecutor};
    use rdsguard_fix::{Event, Journal};

    use super::FixArgs;

    /// Apply the journal's plan, then re-collect, re-audit and show what passes now.
    pub fn apply_and_reaudit(
        args: &FixArgs,
        mut journal: Journal,
        config: &rdsguard_checks::Config,
    ) -> anyhow::Result<ExitCode> {
        let live = &args.source.live;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("cannot start the async runtime")?;
        let exec = runtime.block_on(SdkExecutor::connect(&ConnectOptions {
            profile: live.profile.clone(),
            region: live.regions.first().cloned(),
            endpoint_url: live.endpoint_url.clone(),
            max_attempts: live.max_attempts.max(1),
        }));
        let total = journal.state.plan.steps.len();
        let mut n = 0;
        let mut on_event = |e: Event| match e {
            Event::Starting {
                step_id,
                description,
            } => {
                n += 1;
                eprintln!("[{n}/{total}] {step_id}: {description}");
            }
            Event::Succeeded { step_id } => eprintln!("        done: {step_id}"),
            Event::Reverified { step_id } => {
                n += 1;
                eprintln!("[{n}/{total}] {step_id}: done earlier, still in effect");
            }
            Event::AlreadyDone { step_id } => {
                n += 1;
                eprintln!("[{n}/{total}] {step_id}: done earlier");
            }
        };
        let report = runtime.block_on(rdsguard_fix::apply(&exec, &mut journal, &mut on_event))?;
        eprintln!(
            "applied {} step(s) ({} done earlier); journal {}",
            report.applied.len(),
            report.already_done.len(),
            journal.path().display()
        );
        drop(runtime);
        // Re-audit what the plan touched, from a fresh collection.
        let plan = journal.state.plan.clone();
        let mut regions: Vec<String> = plan.steps.iter().filter_map(|s| s.region.clone()).collect();
        regions.sort();
        regions.dedup();
        let mut live = live.clone();
        if !regions.is_empty() {
            live.regions = regions;
            live.all_regions = false;
        }
        let snapshot = crate::source::collect_live(&live)?;
        let defs = rdsguard_checks::check_defs();
        let after = crate::commands::audit::audit(&snapshot, config, &defs);
        let outcome = rdsguard_fix::outcome::compare(&plan, &after.findings);
        println!("\nRe-audit after the fix:");
        for f in &outcome.now_passing {
            println!("  PASS  {f}");
        }
        for (original, copy) in &outcome.passing_on_copy {
            println!(
                "  PASS  {copy} (the copy of {}: cut over, then retire the original)",
                original.resource_id
            );
        }
        for (f, why) in &outcome.not_yet {
            println!("  not yet  {f}: {why}");
        }
        for note in &plan.notes {
            println!("  next: {note}");
        }
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(not(feature = "live"))]
mod live {
    use std::process::ExitCode;

    use rdsguard_fix::Journal;

    use super::FixArgs;

    pub fn apply_and_reaudit(
        _args: &FixArgs,
        _journal: Journal,
        _config: &rdsguard_checks::Config,
    ) -> anyhow::Result<ExitCode> {
        anyhow::bail!(
            "this rdsguard was built without live AWS access (feature `live`); rebuild with \
             default features to apply plans"
        )
    }
}
