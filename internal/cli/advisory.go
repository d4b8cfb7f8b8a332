package cli

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
)

func init() { register(advisoryCmd) }

func advisoryTable(as ...*vigil.SecurityAdvisory) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, a := range as {
			var cs []string
			for _, c := range a.Cases {
				cs = append(cs, strconv.FormatInt(c, 10))
			}
			pub := ""
			if a.PublishedAt != nil {
				pub = a.PublishedAt.UTC().Format("2006-01-02")
			}
			rows = append(rows, []string{strconv.FormatInt(a.ID, 10), a.TrackingID, a.Status, a.TLP, strconv.Itoa(len(a.Revisions)), pub, strings.Join(cs, ",")})
		}
		return []string{"ID", "TRACKING ID", "STATUS", "TLP", "REVISIONS", "PUBLISHED", "CASES"}, rows
	}
}

func advisoryCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "advisory", Short: "CSAF 2.0 security advisories: draft from cases or a notice, publish revisions, show the document"}

	var caseIDs []int64
	var notice, tlp string
	draft := &cobra.Command{Use: "draft", Short: "Draft an advisory for cases (--case, repeatable) or a notice's cases (--notice)", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			var nid int64
			if notice != "" {
				var err error
				if nid, err = parseNoticeID(notice); err != nil {
					return err
				}
			}
			return env.withApp(func(a *app.App) error {
				adv, err := a.Advisories.DraftAdvisory(env.actx(), caseIDs, nid, tlp)
				if err != nil {
					return err
				}
				return env.Output(map[string]any{"id": adv.ID, "tracking_id": adv.TrackingID}, advisoryTable(adv))
			})
		}}
	draft.Flags().Int64SliceVar(&caseIDs, "case", nil, "case id (repeatable)")
	draft.Flags().StringVar(&notice, "notice", "", "the customer notice it goes with (its cases, compensating controls and fix)")
	draft.Flags().StringVar(&tlp, "tlp", "WHITE", "TLP label: WHITE (public), GREEN, AMBER or RED (signed-in users only)")

	var status, summary string
	publish := &cobra.Command{Use: "publish ID", Short: "Publish a revision (validated; served by the CSAF provider)", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				adv, err := a.Advisories.PublishAdvisory(env.actx(), id, status, summary)
				if err != nil {
					return err
				}
				return env.Output(adv, advisoryTable(adv))
			})
		}}
	publish.Flags().StringVar(&status, "status", "final", "interim or final")
	publish.Flags().StringVar(&summary, "summary", "", "the revision's summary (default: Initial release, then Update)")

	list := &cobra.Command{Use: "list", Short: "List advisories", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				as, err := a.Advisories.Advisories(env.actx())
				if err != nil {
					return err
				}
				return env.Output(as, advisoryTable(as...))
			})
		}}

	show := &cobra.Command{Use: "show ID", Short: "The CSAF 2.0 JSON document (a draft is rendered from the records now)", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				b, err := a.Advisories.AdvisoryDocument(env.actx(), id)
				if err != nil {
					return err
				}
				_, err = env.Stdout.Write(b)
				return err
			})
		}}
	cmd.AddCommand(draft, publish, list, show)
	return cmd
}
