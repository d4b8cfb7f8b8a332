package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
)

func init() { register(noticeCmd) }

// NoticeDraftOut is `notice draft --format json`: the contract of issue 13.
type NoticeDraftOut struct {
	ID      int64    `json:"id"`
	Missing []string `json:"missing_elements"`
}

func noticeTable(ns ...*vigil.Notice) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, n := range ns {
			var cs []string
			for _, c := range n.Cases {
				cs = append(cs, strconv.FormatInt(c, 10))
			}
			follow := ""
			if n.FollowUpOf != 0 {
				follow = "N-" + strconv.FormatInt(n.FollowUpOf, 10)
			}
			rows = append(rows, []string{"N-" + strconv.FormatInt(n.ID, 10), n.State, strings.Join(cs, ","), dateStr(n.SentDate),
				strconv.Itoa(len(n.Recipients)), strings.Join(n.Elements.Missing(), ","), follow, cell(n.Subject)})
		}
		return []string{"ID", "STATE", "CASES", "SENT", "RECIPIENTS", "MISSING", "FOLLOWS", "SUBJECT"}, rows
	}
}

// parseNoticeID reads "7" or "N-7".
func parseNoticeID(s string) (int64, error) {
	return parseID("ID", strings.TrimPrefix(strings.ToUpper(s), "N-"))
}

func noticeCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "notice", Short: "Customer notices (G2016 criterion 2): draft from cases, edit the four elements, preview, send to consignees"}

	var caseIDs []int64
	var follow string
	draft := &cobra.Command{Use: "draft", Short: "Draft a notice for one or more cases, prefilled from their records", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			var first int64
			if follow != "" {
				var err error
				if first, err = parseNoticeID(follow); err != nil {
					return err
				}
			}
			return env.withApp(func(a *app.App) error {
				n, err := a.Notices.DraftNotice(env.actx(), caseIDs, first)
				if err != nil {
					return err
				}
				out := NoticeDraftOut{ID: n.ID, Missing: n.Elements.Missing()}
				return env.Output(out, noticeTable(n))
			})
		}}
	draft.Flags().Int64SliceVar(&caseIDs, "case", nil, "case id (repeatable)")
	draft.Flags().StringVar(&follow, "follow-up-of", "", "the notice this one follows (the fix is available): its cases and recipients are kept")

	var subject, reason string
	var sets []string
	edit := &cobra.Command{Use: "edit ID", Short: "Edit a draft: --element a=TEXT (or a=@FILE), --subject", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseNoticeID(args[0])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				n, err := a.Notices.Notice(env.actx(), id)
				if err != nil {
					return err
				}
				if changed(c, "subject") {
					n.Subject = subject
				}
				for i, s := range sets {
					el, text, ok := strings.Cut(s, "=")
					if !ok {
						return vigil.Errorf(vigil.EINVALID, "--element[%d]: %q: want LETTER=TEXT or LETTER=@FILE", i, vigil.Clip(40, s))
					}
					if strings.HasPrefix(text, "@") {
						b, err := os.ReadFile(text[1:])
						if err != nil {
							return vigil.Errorf(vigil.EINVALID, "--element[%d]: %v", i, err)
						}
						text = string(b)
					}
					if err := n.Elements.Set(strings.ToLower(strings.TrimSpace(el)), strings.TrimSpace(text)); err != nil {
						return err
					}
				}
				if err := a.Notices.EditNotice(env.actx(), n, reason); err != nil {
					return err
				}
				return env.Output(NoticeDraftOut{ID: n.ID, Missing: n.Elements.Missing()}, noticeTable(n))
			})
		}}
	edit.Flags().StringVar(&subject, "subject", "", "the e-mail subject")
	edit.Flags().StringArrayVar(&sets, "element", nil, `an element's text: "a=..." (repeatable; a vulnerability and impact, b efforts underway, c compensating controls, d the fix and that users will be told)`)
	edit.Flags().StringVar(&reason, "reason", "", "why (recorded in the audit trail)")

	var part string
	preview := &cobra.Command{Use: "preview ID", Short: "The notice as recipients will read it (--part text|html), and who will receive it", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseNoticeID(args[0])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				p, err := a.Notices.PreviewNotice(env.actx(), id)
				if err != nil {
					return err
				}
				if env.Format == "json" {
					return env.JSON(p)
				}
				switch part {
				case "html":
					_, err = fmt.Fprint(env.Stdout, p.HTML)
					return err
				case "text", "":
				default:
					return Usage("--part: %q is not one of text, html", part)
				}
				var to []string
				for _, r := range p.Recipients {
					to = append(to, r.Email+" ("+r.Consignee+")")
				}
				fmt.Fprintf(env.Stdout, "To: %s\nSubject: %s\n", strings.Join(to, ", "), p.Subject)
				if len(p.NoAddress) > 0 {
					fmt.Fprintf(env.Stdout, "Not reached (no e-mail address): %s\n", strings.Join(p.NoAddress, ", "))
				}
				if len(p.Missing) > 0 {
					fmt.Fprintf(env.Stdout, "Missing elements: %s (the notice does not meet criterion 2 without them)\n", strings.Join(p.Missing, ", "))
				}
				_, err = fmt.Fprint(env.Stdout, "\n"+p.Text)
				return err
			})
		}}
	preview.Flags().StringVar(&part, "part", "text", "text (with the envelope) or html")

	var sendReason string
	var sendSign signFlags
	send := &cobra.Command{Use: "send ID", Short: "Send a notice to the consignees' contacts and record customer_notified on its cases", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseNoticeID(args[0])
			if err != nil {
				return err
			}
			sig, err := sendSign.actSignature(env)
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				n, err := a.Notices.SendNotice(env.actx(), id, sendReason, sig)
				if err != nil {
					return err
				}
				return env.Output(n, noticeTable(n))
			})
		}}
	sendSign.addAct(send)
	send.Flags().StringVar(&sendReason, "reason", "", "required to send a notice with an element missing (it then does not meet criterion 2)")

	var listCase int64
	list := &cobra.Command{Use: "list", Short: "List notices (--case ID for one case's)", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				ns, err := a.Notices.Notices(env.actx(), listCase)
				if err != nil {
					return err
				}
				return env.Output(ns, noticeTable(ns...))
			})
		}}
	list.Flags().Int64Var(&listCase, "case", 0, "only the notices covering this case")

	show := &cobra.Command{Use: "show ID", Short: "A notice with its elements and, once sent, each recipient's delivery", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseNoticeID(args[0])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				n, err := a.Notices.Notice(env.actx(), id)
				if err != nil {
					return err
				}
				ds, err := a.Notices.NoticeDeliveries(env.actx(), id)
				if err != nil {
					return err
				}
				out := struct {
					*vigil.Notice
					Missing    []string               `json:"missing_elements"`
					Deliveries []vigil.NoticeDelivery `json:"deliveries"`
				}{n, n.Elements.Missing(), ds}
				return env.Output(out, func() ([]string, [][]string) {
					var rows [][]string
					for _, h := range []string{"a", "b", "c", "d"} {
						rows = append(rows, []string{"element " + h, cell(n.Elements.Get(h))})
					}
					for _, d := range ds {
						rows = append(rows, []string{"to " + d.Recipient.Email, strings.TrimSpace(d.State + " " + d.Answer)})
					}
					return []string{"N-" + strconv.FormatInt(n.ID, 10) + " " + n.State, n.Subject}, rows
				})
			})
		}}
	cmd.AddCommand(draft, edit, preview, send, list, show)
	return cmd
}
