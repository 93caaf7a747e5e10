# rdsguard's helper library for custom checks: `import data.rdsguard.lib`.
# The input is the whole snapshot (docs/schemas/snapshot.schema.json); these rules flatten it
# so that a check can iterate over resources with the account and region they live in.
package rdsguard.lib

import rego.v1

# Every account: {"account_id", "partition", "account"}.
accounts contains {"account_id": a.account_id, "partition": a.partition, "account": a} if {
	some a in input.accounts
}

# Every region of every account: {"account_id", "partition", "region", "data"}.
regions contains {"account_id": a.account_id, "partition": a.partition, "region": r.region, "data": r} if {
	some a in input.accounts
	some r in a.regions
}

# Every DB instance: {"account_id", "partition", "region", "db"}.
db_instances contains {"account_id": a.account_id, "partition": a.partition, "region": r.region, "db": db} if {
	some a in input.accounts
	some r in a.regions
	some db in r.rds.db_instances
}

# Every DB cluster: {"account_id", "partition", "region", "cluster"}.
db_clusters contains {"account_id": a.account_id, "partition": a.partition, "region": r.region, "cluster": c} if {
	some a in input.accounts
	some r in a.regions
	some c in r.rds.db_clusters
}

# Every DB snapshot (instance snapshots): {"account_id", "partition", "region", "snapshot"}.
db_snapshots contains {"account_id": a.account_id, "partition": a.partition, "region": r.region, "snapshot": s} if {
	some a in input.accounts
	some r in a.regions
	some s in r.rds.db_snapshots
}

# Every KMS key: {"account_id", "partition", "region", "key"}.
kms_keys contains {"account_id": a.account_id, "partition": a.partition, "region": r.region, "key": k} if {
	some a in input.accounts
	some r in a.regions
	some k in r.kms.keys
}

# The result resource of an entry of db_instances.
instance_resource(x) := {
	"resource_type": "AwsRdsDbInstance",
	"id": x.db.db_instance_identifier,
	"arn": x.db.db_instance_arn,
	"account_id": x.account_id,
	"region": x.region,
}

# The result resource of an entry of db_clusters.
cluster_resource(x) := {
	"resource_type": "AwsRdsDbCluster",
	"id": x.cluster.db_cluster_identifier,
	"arn": x.cluster.db_cluster_arn,
	"account_id": x.account_id,
	"region": x.region,
}

# The result resource of an entry of db_snapshots.
snapshot_resource(x) := {
	"resource_type": "AwsRdsDbSnapshot",
	"id": x.snapshot.identifier,
	"arn": x.snapshot.arn,
	"account_id": x.account_id,
	"region": x.region,
}

# The major version of an engine version: "14.7" -> 14, "8.0.35" -> 8, "5.7.mysql_aurora.2.11.2" -> 5.
major_version(v) := to_number(split(v, ".")[0])

# True when `tags` (an object) has `key`, compared case-insensitively.
has_tag(tags, key) if {
	some k, _ in tags
	lower(k) == lower(key)
}

# True when a DB instance belongs to a cluster (Aurora or Multi-AZ DB cluster): many of its
# settings then live on the cluster. Absent and null both mean "not a member".
is_cluster_member(db) if db.db_cluster_identifier != null
