package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
)

func init() { register(feedsCmd) }

func feedsCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "feeds", Short: "The intelligence sources `vigil serve` syncs: URL, schedule, last attempt and success, counts",
		Long: `With no subcommand, feeds lists the configured sources (configuring the defaults on first use: NVD every 2h,
KEV, EPSS, OSV and CISA CSAF daily). A failing feed shows its last error; the server retries it with backoff.`,
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				if err := a.Intel.EnsureFeeds(env.actx()); err != nil {
					return err
				}
				fs, err := a.Intel.Feeds(env.actx())
				if err != nil {
					return err
				}
				return env.Output(fs, feedTable(fs, env.zone(a)))
			})
		}}
	var f vigil.Feed
	var every string
	var disable bool
	set := &cobra.Command{Use: "set NAME --source S --url URL [--every 24h] [--disable]", Short: "Configure a feed (its URL's host becomes allow-listed)",
		Example: "  vigil feeds set osv-rubygems --source osv --url https://osv-vulnerabilities.storage.googleapis.com/RubyGems/all.zip --every 24h",
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			d, err := time.ParseDuration(every)
			if err != nil {
				return Usage("--every: %q is not a duration such as 2h or 24h", every)
			}
			return env.withApp(func(a *app.App) error {
				if err := a.Intel.EnsureFeeds(env.actx()); err != nil {
					return err
				}
				cur, err := a.Intel.Feed(env.actx(), args[0])
				if err == nil {
					f.Source, f.URL = pick(changed(c, "source"), f.Source, cur.Source), pick(changed(c, "url"), f.URL, cur.URL)
					if !changed(c, "every") {
						d = cur.Every
					}
				}
				f.Name, f.Every, f.Enabled = args[0], d, !disable
				if err := a.Intel.SetFeed(env.actx(), &f); err != nil {
					return err
				}
				out, err := a.Intel.Feed(env.actx(), f.Name)
				if err != nil {
					return err
				}
				return env.Output(out, feedTable([]*vigil.Feed{out}, env.zone(a)))
			})
		}}
	set.Flags().StringVar(&f.Source, "source", "", "nvd, osv, kev, epss, csaf or stix")
	set.Flags().StringVar(&f.URL, "url", "", "https URL of the feed")
	set.Flags().StringVar(&every, "every", "24h", "sync interval")
	set.Flags().BoolVar(&disable, "disable", false, "keep the feed configured but do not sync it")
	sync := &cobra.Command{Use: "sync NAME", Short: "Sync one feed now (recorded like a scheduled sync)", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return env.withApp(func(a *app.App) error {
				res, err := a.Intel.SyncFeed(env.actx(), args[0])
				if err != nil {
					return err
				}
				return importOutput(env, res)
			})
		}}
	cmd.AddCommand(set, sync)
	return cmd
}

func pick(given bool, v, cur string) string {
	if given {
		return v
	}
	return cur
}

func feedTable(fs []*vigil.Feed, zone *time.Location) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, f := range fs {
			status := "ok"
			switch {
			case !f.Enabled:
				status = "disabled"
			case f.Failing():
				status = fmt.Sprintf("FAILING (%d): %s", f.Failures, f.LastError)
			case f.LastAttempt.IsZero():
				status = "never synced"
			}
			rows = append(rows, []string{f.Name, f.Source, f.URL, vigil.ScheduleText(f.Every), stamp(f.LastAttempt, zone), stamp(f.LastSuccess, zone), counts(f.Counts), status})
		}
		return []string{"NAME", "SOURCE", "URL", "EVERY", "LAST ATTEMPT", "LAST SUCCESS", "LAST COUNTS", "STATUS"}, rows
	}
}

// stamp is a time for a table cell, to the minute, in the organization's zone.
func stamp(t time.Time, zone *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(zone).Format("2006-01-02 15:04Z07:00")
}

// counts renders a feed's last summaries as "+added ~updated =unchanged -withdrawn !rejected".
func counts(raw json.RawMessage) string {
	var sums []vigil.IntelSummary
	if len(raw) == 0 || json.Unmarshal(raw, &sums) != nil {
		return ""
	}
	var parts []string
	for _, s := range sums {
		parts = append(parts, fmt.Sprintf("%s +%d ~%d =%d -%d !%d", s.Source, s.Added, s.Updated, s.Unchanged, s.Withdrawn, len(s.Rejected)))
	}
	return strings.Join(parts, "; ")
}
