package postgres

import (
	"slices"

	"github.com/riverqueue/river"
)

// riverDropped are River's indexes that migration 12 drops (see its
// comment): GIN indexes of every job's args and metadata, which nothing
// here searches and every job's insert and state change paid for.
var riverDropped = []string{"river_job_args_index", "river_job_metadata_index"}

// RiverReindexed is what River's reindexer, run daily by the notifier that
// leads, rebuilds: River's default list without the indexes migration 12
// drops, which it would otherwise look for and warn about.
func RiverReindexed() []string {
	return slices.DeleteFunc(river.ReindexerIndexNamesDefault(), func(name string) bool {
		return slices.Contains(riverDropped, name)
	})
}
