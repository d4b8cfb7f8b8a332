// Package calendar answers the one calendar question the regulations ask: which days are working days. 21 CFR
// 806.10 counts 10 working days and 803.53 five work days; Vigil reads those as Monday to Friday minus the US
// federal holidays of 5 U.S.C. 6103(a) on their observed dates (the "federal" policy, the default), or as plain
// Monday to Friday (the "weekdays" policy) for a manufacturer who chooses to count that way. Holidays are computed
// by rule, so the package works for any year without a table to keep up to date.
package calendar

import (
	"time"

	"github.com/vigil-dev/vigil"
)

// Policy says which days count as working days.
type Policy string

// Working-day policies.
const (
	// Federal is Monday to Friday except the observed dates of US federal holidays (the default).
	Federal Policy = "federal"
	// Weekdays is Monday to Friday.
	Weekdays Policy = "weekdays"
)

// ParsePolicy returns the policy named s; the empty string means Federal. Any other name is EINVALID.
func ParsePolicy(s string) (Policy, error) {
	switch Policy(s) {
	case "", Federal:
		return Federal, nil
	case Weekdays:
		return Weekdays, nil
	}
	return "", vigil.Errorf(vigil.EINVALID, "unknown working-day policy %q: want federal or weekdays", s)
}

// Holiday is one legal public holiday of 5 U.S.C. 6103(a) in one year: the date the statute names and the date
// federal employees have off (Executive Order 11582: a Saturday holiday is observed on the Friday before, a Sunday
// holiday on the Monday after).
type Holiday struct {
	Name     string     `json:"name"`
	Date     vigil.Date `json:"date"`
	Observed vigil.Date `json:"observed"`
}

// Holidays returns the federal holidays of year in calendar order, by rule. Birthday of Martin Luther King, Jr. is
// included from 1986 and Juneteenth from 2021, the first years they were observed; Inauguration Day (6103(c)) is a
// holiday only for the Washington, D.C. area and is not included. Rules before the Uniform Monday Holiday Act
// (1971) are not modelled. New Year's Day falling on a Saturday is observed on December 31 of the previous year, so
// the Observed date of the first entry can lie in year-1.
func Holidays(year int) []Holiday {
	var buf [11]Holiday
	return append([]Holiday(nil), holidays(year, &buf)...)
}

// holidays fills buf with the holidays of year and returns the filled part; IsHoliday runs on every day of every
// clock, so it must not allocate.
func holidays(year int, buf *[11]Holiday) []Holiday {
	hs := buf[:0]
	add := func(name string, d vigil.Date) {
		hs = append(hs, Holiday{Name: name, Date: d, Observed: observed(d)})
	}
	add("New Year's Day", vigil.NewDate(year, time.January, 1))
	if year >= 1986 {
		add("Birthday of Martin Luther King, Jr.", nthWeekday(year, time.January, time.Monday, 3))
	}
	add("Washington's Birthday", nthWeekday(year, time.February, time.Monday, 3))
	add("Memorial Day", lastWeekday(year, time.May, time.Monday))
	if year >= 2021 {
		add("Juneteenth National Independence Day", vigil.NewDate(year, time.June, 19))
	}
	add("Independence Day", vigil.NewDate(year, time.July, 4))
	add("Labor Day", nthWeekday(year, time.September, time.Monday, 1))
	add("Columbus Day", nthWeekday(year, time.October, time.Monday, 2))
	add("Veterans Day", vigil.NewDate(year, time.November, 11))
	add("Thanksgiving Day", nthWeekday(year, time.November, time.Thursday, 4))
	add("Christmas Day", vigil.NewDate(year, time.December, 25))
	return hs
}

// HolidayName returns the name of the holiday observed on d, and whether d is the observed date of one.
func HolidayName(d vigil.Date) (string, bool) {
	if d.IsZero() {
		return "", false
	}
	// A holiday is observed at most one day from its date, so only this year's holidays and next year's New
	// Year's Day (observed on December 31) can land on d.
	var buf [11]Holiday
	y := d.Time().Year()
	for _, h := range holidays(y, &buf) {
		if h.Observed.Equal(d) {
			return h.Name, true
		}
	}
	if d.Time().Month() == time.December && d.Time().Day() == 31 {
		if h := holidays(y+1, &buf)[0]; h.Observed.Equal(d) {
			return h.Name + " (observed)", true
		}
	}
	return "", false
}

// IsHoliday reports whether d is the observed date of a federal holiday: the day federal offices are closed. A
// holiday that falls on a weekend is a holiday on its observed weekday instead.
func IsHoliday(d vigil.Date) bool {
	if d.IsZero() {
		return false
	}
	// Quick rejection before building the year's list: every observed holiday is a weekday.
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	_, ok := HolidayName(d)
	return ok
}

// IsWorkingDay reports whether d is a working day under p. An unknown policy is treated as Federal, the stricter
// reading, so a caller's mistake can only make a deadline later, never silently earlier than the default.
func IsWorkingDay(d vigil.Date, p Policy) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	if p == Weekdays {
		return true
	}
	return !IsHoliday(d)
}

// AddWorkingDays returns the n-th working day after d under p, counting d as day 0 (so it need not be a working
// day itself): 806.10's "within 10 working days of initiating the correction" is AddWorkingDays(initiated, 10, p).
// n = 0 returns d; a negative n counts backwards.
func AddWorkingDays(d vigil.Date, n int, p Policy) vigil.Date {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDays(step)
		if IsWorkingDay(d, p) {
			n--
		}
	}
	return d
}

// NextWorkingDay returns d when it is a working day under p, else the first working day after it.
func NextWorkingDay(d vigil.Date, p Policy) vigil.Date {
	for !IsWorkingDay(d, p) {
		d = d.AddDays(1)
	}
	return d
}

// observed moves a weekend holiday to the weekday federal employees have off.
func observed(d vigil.Date) vigil.Date {
	switch d.Weekday() {
	case time.Saturday:
		return d.AddDays(-1)
	case time.Sunday:
		return d.AddDays(1)
	}
	return d
}

// nthWeekday returns the n-th (1-based) weekday wd of month m.
func nthWeekday(year int, m time.Month, wd time.Weekday, n int) vigil.Date {
	first := vigil.NewDate(year, m, 1)
	off := (int(wd) - int(first.Weekday()) + 7) % 7
	return first.AddDays(off + 7*(n-1))
}

// lastWeekday returns the last weekday wd of month m.
func lastWeekday(year int, m time.Month, wd time.Weekday) vigil.Date {
	last := vigil.NewDate(year, m+1, 0) // day 0 of the next month normalizes to the last day of m
	off := (int(last.Weekday()) - int(wd) + 7) % 7
	return last.AddDays(-off)
}
