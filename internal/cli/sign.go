package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigil-dev/vigil"
	"github.com/vigil-dev/vigil/internal/app"
	"github.com/vigil-dev/vigil/internal/cases"
)

func init() {
	register(signCmd)
	register(signaturesCmd)
	register(signingPolicyCmd)
}

// signFlags are the flags every signing command takes: the meaning and the signer's user name; the password (or,
// with --code, the one-time signing code of a step-up at the organization's provider) is read from stdin, every
// time (21 CFR 11.200(a)(1): both components at each signing), never from a flag.
type signFlags struct {
	meaning string
	user    string
	code    bool
}

func (f *signFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.meaning, "meaning", "", "what the signature means: authorship, review, approval or responsibility (required)")
	cmd.Flags().StringVar(&f.user, "user", "", "the signer's user name (required); the password is read from stdin")
	cmd.Flags().BoolVar(&f.code, "code", false, "read a one-time signing code from stdin instead of the password: a user who signs in through the organization's provider gets one at /sign/step-up in the browser (good once, for 5 minutes)")
}

// request checks the flags and reads the password or code from stdin: the signature of a record of kind (its id
// set by the caller, or none for an act whose record is yet to be written).
func (f *signFlags) request(env *Env, kind string) (vigil.SignRequest, error) {
	if err := f.check(); err != nil {
		return vigil.SignRequest{}, err
	}
	s, err := readSecret(env)
	if err != nil {
		return vigil.SignRequest{}, err
	}
	req := vigil.SignRequest{Kind: kind, Meaning: vigil.SignatureMeaning(f.meaning), Signer: f.user}
	if f.code {
		req.Code = s
	} else {
		req.Password = s
	}
	return req, nil
}

// sign re-authenticates the signer and signs one record, printing the signature's manifestation.
func sign(env *Env, a *app.App, req vigil.SignRequest) error {
	sig, err := a.Signing.Sign(env.actx(), req)
	if err != nil {
		return err
	}
	if env.Format == "json" {
		return env.JSON(sig)
	}
	fmt.Fprintln(env.Stdout, sig.Manifest(env.zone(a)))
	return nil
}

// actSignature is the signature an act's command carries (`--meaning M --user NAME [--code]`, the password or
// code from stdin), nil when neither flag was given: the organization then decides whether the act may go
// unsigned. The service names the kind of record the act's signature signs.
func (f *signFlags) actSignature(env *Env) (*vigil.SignRequest, error) {
	if f.meaning == "" && f.user == "" {
		return nil, nil
	}
	req, err := f.request(env, "")
	if err != nil {
		return nil, err
	}
	return &req, nil
}

// addAct adds the signing flags to the command of an act that needs a Part 11 signature.
func (f *signFlags) addAct(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.meaning, "meaning", "", "sign the act (21 CFR Part 11): what the signature means: authorship, review, approval or responsibility")
	cmd.Flags().StringVar(&f.user, "user", "", "sign the act as this user; the password is read from stdin (a signature is required unless the organization switched it off)")
	cmd.Flags().BoolVar(&f.code, "code", false, "with --user: read a one-time signing code (from /sign/step-up) from stdin instead of the password")
}

func (f *signFlags) check() error {
	if f.meaning == "" || f.user == "" {
		return Usage("--meaning and --user are required: a signature says who signed and what it means")
	}
	if err := vigil.SignatureMeaning(f.meaning).Validate(); err != nil {
		return Usage("--%s", vigil.ErrorMessage(err))
	}
	return nil
}

func signCmd(env *Env) *cobra.Command {
	var f signFlags
	cmd := &cobra.Command{Use: "sign KIND ID --meaning MEANING --user NAME [--code]", Short: "Sign a record electronically (21 CFR Part 11): the password (or a one-time signing code) is read from stdin and asked at every signing",
		Long: "Sign a record electronically (21 CFR Part 11). The password is read from stdin, at every signing. A user who signs in\n" +
			"through the organization's OpenID Connect provider has no Vigil password: they sign in there again at /sign/step-up in\n" +
			"the browser, which shows a one-time signing code for one signature of one kind of record, good for 5 minutes, and give\n" +
			"it with --code (read from stdin the same way). KIND is the kind of record: assessment, case_event, regdoc_record,\n" +
			"... (an unknown kind is refused, naming them all).",
		Example: `  printf '%s\n' "$PW" | vigil sign assessment 12 --meaning approval --user alice
  vigil sign regdoc_record 4 --meaning approval --user bob --code   # then paste the code from /sign/step-up`,
		Args: exactArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[1])
			if err != nil {
				return err
			}
			req, err := f.request(env, args[0])
			if err != nil {
				return err
			}
			req.RecordID = id
			return env.withApp(func(a *app.App) error { return sign(env, a, req) })
		}}
	f.add(cmd)
	return cmd
}

// caseSignCmd signs a case's determination: its latest assessment that stands.
func caseSignCmd(env *Env) *cobra.Command {
	var f signFlags
	cmd := &cobra.Command{Use: "sign ID --meaning MEANING --user NAME [--code]", Short: "Sign the case's determination (its latest standing assessment); the password (or with --code a one-time signing code) is read from stdin",
		Example: `  printf '%s\n' "$PW" | vigil case sign 7 --meaning approval --user alice`,
		Args:    exactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			id, err := parseID("ID", args[0])
			if err != nil {
				return err
			}
			req, err := f.request(env, "assessment")
			if err != nil {
				return err
			}
			return env.withApp(func(a *app.App) error {
				v, err := a.Cases.CaseView(env.actx(), id, vigil.Date{})
				if err != nil {
					return err
				}
				if len(v.Assessments) == 0 {
					return vigil.Errorf(vigil.EINVALID, "case %d has no assessment to sign: assess it first", id)
				}
				req.RecordID = v.Assessments[len(v.Assessments)-1].ID
				return sign(env, a, req)
			})
		}}
	f.add(cmd)
	return cmd
}

func signaturesCmd(env *Env) *cobra.Command {
	return &cobra.Command{Use: "signatures KIND ID...", Short: "List the electronic signatures of records, with their manifestation; a broken one is marked", Args: cobra.MinimumNArgs(2),
		RunE: func(c *cobra.Command, args []string) error {
			var ids []int64
			for _, s := range args[1:] {
				id, err := parseID("ID", s)
				if err != nil {
					return err
				}
				ids = append(ids, id)
			}
			return env.withApp(func(a *app.App) error {
				sigs, err := a.Signing.Signatures(env.actx(), args[0], ids...)
				if err != nil {
					return err
				}
				zone := env.zone(a)
				return env.Output(sigs, func() ([]string, [][]string) {
					var rows [][]string
					for _, s := range sigs {
						status := "valid"
						if s.Broken {
							status = "BROKEN"
						}
						rows = append(rows, []string{strconv.FormatInt(s.ID, 10), s.Kind + " " + strconv.FormatInt(s.RecordID, 10), cell(s.Printed) + " (" + s.Signer + ")",
							s.SignedAt.In(zone).Format(time.RFC3339), string(s.Meaning), s.Method, status})
					}
					return []string{"ID", "RECORD", "SIGNER", "SIGNED", "MEANING", "METHOD", "STATUS"}, rows
				})
			})
		}}
}

// caseSignatures reads the signatures of a case's assessments and events (standing and withdrawn), by kind and id:
// a signed record is shown with its signatures' manifestation (21 CFR 11.50).
func caseSignatures(env *Env, a *app.App, v *cases.View) (map[string]map[int64][]*vigil.Signature, error) {
	ids := map[string][]int64{}
	for _, x := range v.Assessments {
		ids["assessment"] = append(ids["assessment"], x.ID)
	}
	for _, x := range v.Events {
		ids["case_event"] = append(ids["case_event"], x.ID)
	}
	for _, w := range v.Withdrawn {
		if w.Assessment != nil {
			ids["assessment"] = append(ids["assessment"], w.Assessment.ID)
		} else {
			ids["case_event"] = append(ids["case_event"], w.Event.ID)
		}
	}
	for _, x := range v.Acts {
		ids[string(x.Act)] = append(ids[string(x.Act)], x.ID)
	}
	out := map[string]map[int64][]*vigil.Signature{}
	for kind, list := range ids {
		sigs, err := a.Signing.Signatures(env.actx(), kind, list...)
		if err != nil {
			return nil, err
		}
		for _, s := range sigs {
			if out[kind] == nil {
				out[kind] = map[int64][]*vigil.Signature{}
			}
			out[kind][s.RecordID] = append(out[kind][s.RecordID], s)
		}
	}
	return out, nil
}

// printSignatures prints the manifestation of each signature under the record shown.
func printSignatures(env *Env, sigs []*vigil.Signature, zone *time.Location) {
	for _, s := range sigs {
		fmt.Fprintf(env.Stdout, "      %s\n", cell(s.Manifest(zone)))
	}
}

func signingPolicyCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{Use: "signing-policy", Short: "The acts that need a Part 11 signature (all by default): list them, or switch one off or on with a reason (admin)", Args: exactArgs(0),
		Example: "  vigil signing-policy\n  vigil signing-policy off premarket --reason \"SOP-RA-4: premarket decisions are signed on paper in the DHF\"",
		RunE: func(c *cobra.Command, _ []string) error {
			return env.withApp(func(a *app.App) error {
				rs, err := a.Signing.Requirements(env.actx())
				if err != nil {
					return err
				}
				return env.Output(rs, signingPolicyTable(env, a, rs))
			})
		}}
	for _, on := range []bool{false, true} {
		var reason string
		use, short := "off ACT...|all --reason TEXT", "Let the acts go unsigned (each change is audited and stated in the evidence packages)"
		if on {
			use, short = "on ACT...|all --reason TEXT", "Require a Part 11 signature for the acts again"
		}
		sub := &cobra.Command{Use: use, Short: short, Args: cobra.MinimumNArgs(1),
			RunE: func(c *cobra.Command, args []string) error {
				acts, err := signedActs(args)
				if err != nil {
					return err
				}
				return env.withApp(func(a *app.App) error {
					for _, act := range acts {
						if _, err := a.Signing.SetRequirement(env.actx(), act, on, reason); err != nil {
							return err
						}
					}
					rs, err := a.Signing.Requirements(env.actx())
					if err != nil {
						return err
					}
					return env.Output(rs, signingPolicyTable(env, a, rs))
				})
			}}
		sub.Flags().StringVar(&reason, "reason", "", "why (required)")
		cmd.AddCommand(sub)
	}
	return cmd
}

// signedActs reads the acts named on the command line ("all" for every one).
func signedActs(args []string) ([]vigil.SignedAct, error) {
	if len(args) == 1 && args[0] == "all" {
		return vigil.SignedActs, nil
	}
	var out []vigil.SignedAct
	for _, s := range args {
		act := vigil.SignedAct(s)
		if err := act.Validate(); err != nil {
			return nil, Usage("%s", vigil.ErrorMessage(err))
		}
		out = append(out, act)
	}
	return out, nil
}

func signingPolicyTable(env *Env, a *app.App, rs []vigil.SignatureRequirement) func() ([]string, [][]string) {
	return func() ([]string, [][]string) {
		var rows [][]string
		for _, r := range rs {
			req, set := "required", "default"
			if !r.Required {
				req = "NOT REQUIRED"
			}
			if r.SetBy != "" {
				set = r.SetBy + " " + r.SetAt.In(env.zone(a)).Format(time.RFC3339)
			}
			rows = append(rows, []string{string(r.Act), r.Act.Text(), req, set, cell(r.Reason)})
		}
		return []string{"ACT", "WHAT", "SIGNATURE", "SET", "REASON"}, rows
	}
}
