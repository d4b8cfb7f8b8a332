package cli

import (
	"bufio"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
)

func init() { register(notifyCmd) }

func notifyCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "notify", Short: "E-mail: the SMTP server, the outbox and its delivery log",
		Long: `Every e-mail Vigil sends (customer notices, notifications, acknowledgements to researchers) goes through the
outbox: one message per recipient, delivered once by whichever vigil serve claims it, each attempt logged with the
SMTP server's answer. A refusal that may pass (4xx, no connection) is retried with backoff; a 5xx is final.`}
	cmd.AddCommand(smtpCmd(env), outboxCmd(env), ruleCmd(env), notifyRunCmd(env))
	return cmd
}

func rulesTable(rs []*vigil.NotifyRule) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, r := range rs {
			var evs []string
			for _, e := range r.Events {
				evs = append(evs, string(e))
			}
			within := ""
			if slices.Contains(r.Events, vigil.EventClockDue) {
				within = strconv.Itoa(cmpOr(r.Within, vigil.DefaultWithin)) + "d"
			}
			rows = append(rows, []string{strconv.FormatInt(r.ID, 10), orDash(r.Owner), string(r.Channel), r.Target, strings.Join(evs, ","), within, r.CreatedBy})
		}
		return []string{"ID", "OWNER", "CHANNEL", "TARGET", "EVENTS", "AT RISK WITHIN", "CREATED BY"}, rows
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

func ruleCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "rule", Short: "Notification rules: who is told what, by e-mail, signed webhook or a daily digest",
		Long: `Events: kev_hit (a KEV-listed vulnerability open on a version in the field), new_case (a case opened after the
rule was made), clock_due (a clock due within --within days), clock_overdue, report_awaiting_ack (a researcher's
report not yet acknowledged), feed_failing (an enabled feed's syncs failing; once per run of failures). Each event is told
once per rule, by whichever vigil serve runs the job "notify" (every 5 minutes); a digest rule sends one e-mail a
day (after 07:00 in the organization's time zone) listing what stands. Every message links to the case or report.`}
	list := &cobra.Command{Use: "list", Short: "List the rules (webhook secrets are never shown)", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				rs, err := a.Notifier.Rules(env.actx())
				if err != nil {
					return err
				}
				return env.Output(rs, rulesTable(rs))
			})
		}}
	var r vigil.NotifyRule
	var events []string
	add := &cobra.Command{Use: "add --channel email|webhook|digest --to ADDR|URL --events E,...", Short: "Add a rule (a webhook's signing secret is printed once)",
		Args: exactArgs(0),
		Example: "  vigil notify rule add --channel email --to psirt@acme.example --events kev_hit,clock_overdue,report_awaiting_ack\n" +
			"  vigil notify rule add --channel webhook --to https://chat.acme.example/hooks/psirt --events kev_hit\n" +
			"  vigil notify rule add --channel digest --to alice@acme.example --owner alice --events clock_due --within 14",
		RunE: func(c *cobra.Command, _ []string) error {
			for _, e := range events {
				r.Events = append(r.Events, vigil.NotifyEvent(strings.TrimSpace(e)))
			}
			return env.withApp(func(a *app.App) error {
				secret, err := a.Notifier.AddRule(env.actx(), &r)
				if err != nil {
					return err
				}
				if secret != "" {
					fmt.Fprintf(env.Stderr, "webhook signing secret (shown once; bodies carry %s: t=UNIX,v1=HMAC-SHA256(secret, \"t.body\")):\n%s\n", "X-Vigil-Signature", secret)
				}
				return env.Output(r, rulesTable([]*vigil.NotifyRule{&r}))
			})
		}}
	add.Flags().StringVar((*string)(&r.Channel), "channel", "email", "email, webhook or digest")
	add.Flags().StringVar(&r.Target, "to", "", "the e-mail address, or the webhook's https URL")
	add.Flags().StringSliceVar(&events, "events", nil, "kev_hit, new_case, clock_due, clock_overdue, report_awaiting_ack, feed_failing")
	add.Flags().IntVar(&r.Within, "within", 0, "clock_due: days ahead a clock is at risk (default 7)")
	add.Flags().StringVar(&r.Owner, "owner", "", "the user the rule belongs to (default: the organization's)")
	var reason string
	remove := &cobra.Command{Use: "remove ID --reason TEXT", Short: "Remove a rule", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			if err := needReason(reason); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error { return a.Notifier.RemoveRule(env.actx(), id, reason) })
		}}
	remove.Flags().StringVar(&reason, "reason", "", "why (required; recorded in the audit trail)")
	test := &cobra.Command{Use: "test ID", Short: "Send a test message through a rule's channel now and show its delivery log", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				m, log, err := a.Notifier.SendTest(env.actx(), id)
				if err != nil {
					return err
				}
				return env.Output(map[string]any{"mail": m, "log": log}, mailLogTable(m, log, env.zone(a)))
			})
		}}
	cmd.AddCommand(list, add, remove, test)
	return cmd
}

func notifyRunCmd(env *Env) *cobra.Command {
	return &cobra.Command{Use: "run", Short: "Compute the events standing now, queue what no rule told yet, and deliver (vigil serve does this every 5 minutes)",
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				ctx := env.actx()
				res, err := a.Notifier.Run(ctx)
				if err != nil {
					return err
				}
				n, err := a.Outbox.DeliverDue(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "%d event(s) standing, %d rule message(s) in the outbox, %d delivery attempt(s) now\n", res.Events, res.Messages, n)
				return nil
			})
		}}
}

func smtpCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "smtp", Short: "The SMTP server in use (password hidden) and where it is configured", Args: exactArgs(0),
		Long: `The server is $VIGIL_SMTP_URL when set, else the organization's setting (vigil notify smtp set):
smtp://user:password@host:port?tls=starttls|tls|none&from=ADDR (tls defaults to starttls, port to 587, or 465
with tls=tls; from defaults to the user when it is an address, else vigil@HOST). The password is never printed.`,
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				server, source, err := a.Outbox.SMTP(env.actx())
				if err != nil {
					return err
				}
				v := map[string]string{"server": server, "source": source}
				return env.Output(v, func() ([]string, [][]string) {
					if server == "" {
						return []string{"SMTP"}, [][]string{{"none: set $VIGIL_SMTP_URL or vigil notify smtp set URL"}}
					}
					return []string{"SMTP", "SOURCE"}, [][]string{{server, source}}
				})
			})
		}}
	var reason string
	set := &cobra.Command{Use: "set URL|- --reason TEXT", Short: "Store the organization's SMTP server (- reads the URL from stdin, so the password stays out of shell history)",
		Args: exactArgs(1), Example: "  printf '%s\\n' 'smtp://psirt:PASSWORD@mail.acme.example:587?tls=starttls' | vigil notify smtp set - --reason \"mail relay\"",
		RunE: func(c *cobra.Command, args []string) error {
			if err := needReason(reason); err != nil {
				return err
			}
			url := args[0]
			if url == "-" {
				line, err := bufio.NewReader(env.Stdin).ReadString('\n')
				if err != nil && line == "" {
					return Usage("no URL on stdin")
				}
				url = strings.TrimSpace(line)
			}
			return env.withApp(func(a *app.App) error {
				if err := a.Outbox.SetSMTP(env.actx(), url, reason); err != nil {
					return err
				}
				server, source, err := a.Outbox.SMTP(env.actx())
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "SMTP server stored; in use: %s (from the %s)\n", server, source)
				return nil
			})
		}}
	set.Flags().StringVar(&reason, "reason", "", "why (required; recorded in the audit trail, with the URL's password hidden)")
	var ureason string
	unset := &cobra.Command{Use: "unset --reason TEXT", Short: "Remove the organization's SMTP server (messages then wait, queued)", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			if err := needReason(ureason); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error { return a.Outbox.SetSMTP(env.actx(), "", ureason) })
		}}
	unset.Flags().StringVar(&ureason, "reason", "", "why (required; recorded in the audit trail)")
	var to string
	test := &cobra.Command{Use: "test [--to ADDR]", Short: "Connect and authenticate to the SMTP server; with --to, also send a test message now",
		Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				ctx := env.actx()
				if err := a.Outbox.CheckSMTP(ctx); err != nil {
					return err
				}
				server, _, _ := a.Outbox.SMTP(ctx)
				fmt.Fprintf(env.Stderr, "connected and authenticated to %s\n", server)
				if to == "" {
					return nil
				}
				now := a.Clock.Now().UTC()
				ms, err := a.Outbox.Enqueue(ctx, []vigil.MailInput{{To: to, Subject: "Vigil test message",
					Text: "This is a test message from Vigil, sent " + now.Format(time.RFC3339) + " by `vigil notify smtp test`.",
					Key:  "smtp-test:" + now.Format(time.RFC3339Nano) + ":" + to, About: "smtp-test"}})
				if err != nil {
					return err
				}
				if _, err := a.Outbox.DeliverDue(ctx); err != nil {
					return err
				}
				m, log, err := a.Outbox.Mail(ctx, ms[0].ID)
				if err != nil {
					return err
				}
				if m.State != vigil.MailAccepted {
					return vigil.Errorf(vigil.EUNAVAILABLE, "test message %d to %s: %s: %s", m.ID, to, m.State, m.Answer)
				}
				return env.Output(map[string]any{"mail": m, "log": log}, mailLogTable(m, log, env.zone(a)))
			})
		}}
	test.Flags().StringVar(&to, "to", "", "send a test message to this address through the outbox")
	cmd.AddCommand(set, unset, test)
	return cmd
}

func outboxCmd(env *Env) *cobra.Command {
	var about string
	var states []string
	var limit int
	cmd := &cobra.Command{Use: "outbox", Short: "Messages in the outbox, newest first, with their delivery state", Args: exactArgs(0),
		Example: "  vigil notify outbox --state failed,retrying\n  vigil notify outbox --about notice:12",
		RunE: func(c *cobra.Command, _ []string) error {
			f := vigil.MailFilter{About: about, Limit: limit}
			for _, s := range states {
				st := vigil.MailState(s)
				if !slices.Contains(vigil.MailStates, st) {
					return Usage("--state: %q is not one of %v", s, vigil.MailStates)
				}
				f.States = append(f.States, st)
			}
			return env.withApp(func(a *app.App) error {
				ms, err := a.Outbox.Mails(env.actx(), f)
				if err != nil {
					return err
				}
				return env.Output(ms, func() ([]string, [][]string) {
					zone := env.zone(a)
					var rows [][]string
					for _, m := range ms {
						rows = append(rows, []string{strconv.FormatInt(m.ID, 10), m.To, m.Subject, m.About, string(m.State), strconv.Itoa(m.Attempts),
							stamp(m.Queued, zone), stamp(m.Sent, zone), stamp(m.Next, zone), m.Answer})
					}
					return []string{"ID", "TO", "SUBJECT", "ABOUT", "STATE", "ATTEMPTS", "QUEUED", "SENT", "NEXT", "ANSWER"}, rows
				})
			})
		}}
	cmd.Flags().StringVar(&about, "about", "", "only messages about this (case:7, notice:12, report:3)")
	cmd.Flags().StringSliceVar(&states, "state", nil, "only these states: queued, retrying, accepted, failed")
	cmd.Flags().IntVar(&limit, "limit", 100, "at most this many")
	show := &cobra.Command{Use: "show ID", Short: "One message and its delivery log: every attempt with the server's answer", Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				m, log, err := a.Outbox.Mail(env.actx(), id)
				if err != nil {
					return err
				}
				return env.Output(map[string]any{"mail": m, "log": log}, mailLogTable(m, log, env.zone(a)))
			})
		}}
	var reason string
	resend := &cobra.Command{Use: "resend ID --reason TEXT", Short: "Queue a failed message again (after its refusal was fixed, or an interrupted delivery was found lost)",
		Args: exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			if err := needReason(reason); err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error { return a.Outbox.Resend(env.actx(), id, reason) })
		}}
	resend.Flags().StringVar(&reason, "reason", "", "why (required; recorded in the audit trail: a resent message may arrive twice)")
	deliver := &cobra.Command{Use: "deliver", Short: "Deliver the messages due now and exit (vigil serve does this on its own)", Args: exactArgs(0),
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				n, err := a.Outbox.DeliverDue(env.actx())
				if err != nil {
					return err
				}
				fmt.Fprintf(env.Stderr, "%d message(s) attempted\n", n)
				return nil
			})
		}}
	cmd.AddCommand(show, resend, deliver)
	return cmd
}

func mailLogTable(m *vigil.Mail, log []vigil.MailAttempt, zone *time.Location) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		rows := [][]string{{stamp(m.Queued, zone), "queued", "", fmt.Sprintf("message %d to %s: %s (%s)", m.ID, m.To, m.Subject, m.MessageID)}}
		for _, a := range log {
			rows = append(rows, []string{stamp(a.At, zone), string(a.Outcome), a.By, a.Answer})
		}
		return []string{"AT", "OUTCOME", "BY", "ANSWER"}, rows
	}
}
