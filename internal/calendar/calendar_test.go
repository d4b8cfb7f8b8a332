package calendar

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/vigil-dev/vigil"
)

func date(t testing.TB, s string) vigil.Date {
	t.Helper()
	d, err := vigil.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// observedByYear lists the days federal offices were (or will be) closed, as OPM publishes them, for every year
// from 2020 to 2030. It is written out by hand rather than derived, so that it checks the rules instead of
// repeating them. A Saturday New Year's Day appears under the previous year (Dec 31).
var observedByYear = map[int][]string{
	2020: {"2020-01-01", "2020-01-20", "2020-02-17", "2020-05-25", "2020-07-03", "2020-09-07", "2020-10-12", "2020-11-11", "2020-11-26", "2020-12-25"},
	2021: {"2021-01-01", "2021-01-18", "2021-02-15", "2021-05-31", "2021-06-18", "2021-07-05", "2021-09-06", "2021-10-11", "2021-11-11", "2021-11-25", "2021-12-24", "2021-12-31"},
	2022: {"2022-01-17", "2022-02-21", "2022-05-30", "2022-06-20", "2022-07-04", "2022-09-05", "2022-10-10", "2022-11-11", "2022-11-24", "2022-12-26"},
	2023: {"2023-01-02", "2023-01-16", "2023-02-20", "2023-05-29", "2023-06-19", "2023-07-04", "2023-09-04", "2023-10-09", "2023-11-10", "2023-11-23", "2023-12-25"},
	2024: {"2024-01-01", "2024-01-15", "2024-02-19", "2024-05-27", "2024-06-19", "2024-07-04", "2024-09-02", "2024-10-14", "2024-11-11", "2024-11-28", "2024-12-25"},
	2025: {"2025-01-01", "2025-01-20", "2025-02-17", "2025-05-26", "2025-06-19", "2025-07-04", "2025-09-01", "2025-10-13", "2025-11-11", "2025-11-27", "2025-12-25"},
	2026: {"2026-01-01", "2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07", "2026-10-12", "2026-11-11", "2026-11-26", "2026-12-25"},
	2027: {"2027-01-01", "2027-01-18", "2027-02-15", "2027-05-31", "2027-06-18", "2027-07-05", "2027-09-06", "2027-10-11", "2027-11-11", "2027-11-25", "2027-12-24", "2027-12-31"},
	2028: {"2028-01-17", "2028-02-21", "2028-05-29", "2028-06-19", "2028-07-04", "2028-09-04", "2028-10-09", "2028-11-10", "2028-11-23", "2028-12-25"},
	2029: {"2029-01-01", "2029-01-15", "2029-02-19", "2029-05-28", "2029-06-19", "2029-07-04", "2029-09-03", "2029-10-08", "2029-11-12", "2029-11-22", "2029-12-25"},
	2030: {"2030-01-01", "2030-01-21", "2030-02-18", "2030-05-27", "2030-06-19", "2030-07-04", "2030-09-02", "2030-10-14", "2030-11-11", "2030-11-28", "2030-12-25"},
}

// TestIsHolidayEveryDay walks every day of 2020-2030 and checks IsHoliday against the published list: no holiday
// missed, no extra one.
func TestIsHolidayEveryDay(t *testing.T) {
	for year, days := range observedByYear {
		want := make([]string, 0, len(days))
		want = append(want, days...)
		var got []string
		for d := vigil.NewDate(year, time.January, 1); d.Time().Year() == year; d = d.AddDays(1) {
			if IsHoliday(d) {
				got = append(got, d.String())
			}
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%d observed holidays mismatch (-want +got):\n%s", year, diff)
		}
	}
}

func TestHolidays(t *testing.T) {
	tests := []struct {
		name        string
		year        int
		holiday     string
		date, obsvd string
		wantAbsent  bool
		wantCount   int
	}{
		{name: "Juneteenth absent before 2021", year: 2020, holiday: "Juneteenth National Independence Day", wantAbsent: true, wantCount: 10},
		{name: "Juneteenth 2021 first observed on Friday", year: 2021, holiday: "Juneteenth National Independence Day", date: "2021-06-19", obsvd: "2021-06-18", wantCount: 11},
		{name: "Saturday New Year observed in previous year", year: 2022, holiday: "New Year's Day", date: "2022-01-01", obsvd: "2021-12-31", wantCount: 11},
		{name: "Sunday New Year observed Monday", year: 2023, holiday: "New Year's Day", date: "2023-01-01", obsvd: "2023-01-02", wantCount: 11},
		{name: "Saturday Independence Day observed Friday", year: 2026, holiday: "Independence Day", date: "2026-07-04", obsvd: "2026-07-03", wantCount: 11},
		{name: "Sunday Veterans Day observed Monday", year: 2029, holiday: "Veterans Day", date: "2029-11-11", obsvd: "2029-11-12", wantCount: 11},
		{name: "Thanksgiving fourth Thursday when month starts on Thursday", year: 2029, holiday: "Thanksgiving Day", date: "2029-11-22", obsvd: "2029-11-22", wantCount: 11},
		{name: "Memorial Day is the 31st when May ends on Monday", year: 2027, holiday: "Memorial Day", date: "2027-05-31", obsvd: "2027-05-31", wantCount: 11},
		{name: "MLK absent before 1986", year: 1985, holiday: "Birthday of Martin Luther King, Jr.", wantAbsent: true, wantCount: 9},
		{name: "MLK 1986", year: 1986, holiday: "Birthday of Martin Luther King, Jr.", date: "1986-01-20", obsvd: "1986-01-20", wantCount: 10},
		{name: "far future Christmas on Saturday", year: 2100, holiday: "Christmas Day", date: "2100-12-25", obsvd: "2100-12-24", wantCount: 11},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := Holidays(tt.year)
			if len(hs) != tt.wantCount {
				t.Errorf("len(Holidays(%d)) = %d, want %d", tt.year, len(hs), tt.wantCount)
			}
			for _, h := range hs {
				if h.Name == "Inauguration Day" {
					t.Errorf("Inauguration Day must not be a federal holiday here")
				}
				if h.Name != tt.holiday {
					continue
				}
				if tt.wantAbsent {
					t.Fatalf("%s present in %d", tt.holiday, tt.year)
				}
				if h.Date.String() != tt.date || h.Observed.String() != tt.obsvd {
					t.Errorf("%s %d = %s observed %s, want %s observed %s", tt.holiday, tt.year, h.Date, h.Observed, tt.date, tt.obsvd)
				}
				return
			}
			if !tt.wantAbsent {
				t.Fatalf("%s missing in %d", tt.holiday, tt.year)
			}
		})
	}
}

func TestHolidayNameAndNotHoliday(t *testing.T) {
	tests := []struct {
		day      string
		wantName string
		want     bool
	}{
		{"2021-12-31", "New Year's Day (observed)", true},
		{"2022-01-01", "", false}, // the Saturday itself is a weekend, not the observed day
		{"2020-07-04", "", false},
		{"2020-07-03", "Independence Day", true},
		{"2025-01-20", "Birthday of Martin Luther King, Jr.", true}, // also Inauguration Day 2025: not a 6103(a) day off nationwide
		{"2025-01-21", "", false},
		{"2024-12-31", "", false}, // 2025-01-01 is a Wednesday
		{"2025-12-26", "", false}, // no day-after-Christmas closure by statute
	}
	for _, tt := range tests {
		t.Run(tt.day, func(t *testing.T) {
			name, ok := HolidayName(date(t, tt.day))
			if name != tt.wantName || ok != tt.want {
				t.Errorf("HolidayName(%s) = %q, %v; want %q, %v", tt.day, name, ok, tt.wantName, tt.want)
			}
			if IsHoliday(date(t, tt.day)) != tt.want {
				t.Errorf("IsHoliday(%s) = %v, want %v", tt.day, !tt.want, tt.want)
			}
		})
	}
	if IsHoliday(vigil.Date{}) {
		t.Error("zero date is a holiday")
	}
}

func TestIsWorkingDay(t *testing.T) {
	tests := []struct {
		day    string
		policy Policy
		want   bool
	}{
		{"2025-07-04", Federal, false},
		{"2025-07-04", Weekdays, true},
		{"2025-07-05", Weekdays, false}, // Saturday
		{"2025-07-06", Federal, false},  // Sunday
		{"2025-07-07", Federal, true},
		{"2021-12-31", Federal, false},
		{"2021-12-31", Weekdays, true},
		{"2026-07-03", Federal, false},
		{"2026-07-03", Policy("bogus"), false}, // unknown policies count holidays, the stricter reading
	}
	for _, tt := range tests {
		t.Run(tt.day+"/"+string(tt.policy), func(t *testing.T) {
			if got := IsWorkingDay(date(t, tt.day), tt.policy); got != tt.want {
				t.Errorf("IsWorkingDay(%s, %s) = %v, want %v", tt.day, tt.policy, got, tt.want)
			}
		})
	}
}

func TestAddWorkingDays(t *testing.T) {
	tests := []struct {
		name   string
		from   string
		n      int
		policy Policy
		want   string
	}{
		{"day 0 is the date itself", "2025-07-05", 0, Federal, "2025-07-05"},
		{"over Presidents' Day (S5)", "2025-02-03", 10, Federal, "2025-02-18"},
		{"over Presidents' Day with weekdays policy", "2025-02-03", 10, Weekdays, "2025-02-17"},
		{"over July 4th (S6)", "2025-06-20", 10, Federal, "2025-07-07"},
		{"over July 4th with weekdays policy", "2025-06-20", 10, Weekdays, "2025-07-04"},
		{"over Christmas (S7)", "2025-12-12", 10, Federal, "2025-12-29"},
		{"over Independence Day observed on Friday 2026-07-03 (S14)", "2026-07-01", 10, Federal, "2026-07-16"},
		{"from a Saturday", "2025-02-01", 1, Federal, "2025-02-03"},
		{"from a holiday", "2025-01-01", 1, Federal, "2025-01-02"},
		{"over Saturday New Year observed Dec 31", "2021-12-30", 1, Federal, "2022-01-03"},
		{"over Thanksgiving", "2025-11-26", 1, Federal, "2025-11-28"},
		{"five work days over Juneteenth", "2025-06-16", 5, Federal, "2025-06-24"},
		{"across year end", "2024-12-31", 10, Federal, "2025-01-15"},
		{"backwards over July 4th", "2025-07-07", -1, Federal, "2025-07-03"},
		{"leap day", "2024-02-28", 1, Federal, "2024-02-29"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AddWorkingDays(date(t, tt.from), tt.n, tt.policy)
			if got.String() != tt.want {
				t.Errorf("AddWorkingDays(%s, %d, %s) = %s (%s), want %s", tt.from, tt.n, tt.policy, got, got.Weekday(), tt.want)
			}
		})
	}
}

func TestNextWorkingDay(t *testing.T) {
	tests := []struct{ from, want string }{
		{"2025-07-04", "2025-07-07"},
		{"2025-07-07", "2025-07-07"},
		{"2021-12-31", "2022-01-03"},
	}
	for _, tt := range tests {
		if got := NextWorkingDay(date(t, tt.from), Federal); got.String() != tt.want {
			t.Errorf("NextWorkingDay(%s) = %s, want %s", tt.from, got, tt.want)
		}
	}
}

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		in       string
		want     Policy
		wantCode string
	}{
		{"", Federal, ""},
		{"federal", Federal, ""},
		{"weekdays", Weekdays, ""},
		{"Federal", "", vigil.EINVALID},
		{"business", "", vigil.EINVALID},
	}
	for _, tt := range tests {
		got, err := ParsePolicy(tt.in)
		if vigil.ErrorCode(err) != tt.wantCode || got != tt.want {
			t.Errorf("ParsePolicy(%q) = %q, %v; want %q, code %q", tt.in, got, err, tt.want, tt.wantCode)
		}
	}
}

func BenchmarkAddWorkingDays10(b *testing.B) {
	d := vigil.NewDate(2025, time.June, 20)
	for b.Loop() {
		AddWorkingDays(d, 10, Federal)
	}
}

func BenchmarkIsHoliday(b *testing.B) {
	d := vigil.NewDate(2025, time.July, 4)
	for b.Loop() {
		IsHoliday(d)
	}
}
