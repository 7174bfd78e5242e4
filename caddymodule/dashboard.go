package caddymodule

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"time"
)

// The dashboard is one self-contained HTML page: charts are inline SVG
// drawn on the server, styles are inline, there is no script and no
// external resource, so it works as a saved file too (consentctl
// dashboard -o report.html).

// dashboardCSP allows the page nothing but its own inline styles.
const dashboardCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

// dashboardMaxDays bounds a dashboard's range.
const dashboardMaxDays = 400

// dashboardDefaultDays is the range shown when since is not given.
const dashboardDefaultDays = 30

// decisionClass is one segment of a stacked bar.
type decisionClass struct {
	Name  string
	Color string
	count func(*decisionCounts) int
}

// decisionClasses in stacking order, bottom first.
var decisionClasses = []decisionClass{
	{"accepted", "#2e7d32", func(c *decisionCounts) int { return c.Accepted }},
	{"custom", "#1565c0", func(c *decisionCounts) int { return c.Custom }},
	{"rejected", "#c62828", func(c *decisionCounts) int { return c.Rejected }},
	{"GPC-defaulted", "#ef8f00", func(c *decisionCounts) int { return c.GPCDefaulted }},
	{"withdrawn", "#616161", func(c *decisionCounts) int { return c.Withdrawn }},
}

// Chart geometry, in pixels.
const (
	chartLeft   = 48 // room for the y labels
	chartTop    = 8
	chartPlotH  = 160
	chartBottom = 30 // room for the x labels
	chartPlotW  = 720
)

type dashboardPage struct {
	From, To  string // days, inclusive
	Site      string
	Stores    string
	Generated string
	Decisions int
	Erased    int
	Legend    []decisionClass
	Charts    []dashboardChart
}

type dashboardChart struct {
	Purpose       string
	Width, Height int
	PlotRight     int
	Baseline      int
	Totals        decisionCounts
	Rate          string
	Rects         []chartRect
	XLabels       []chartLabel
	YLabels       []chartLabel
	Rows          []dashboardRow
}

type chartRect struct {
	X, Y, W, H int
	Color      string
	Title      string
}

type chartLabel struct {
	X, Y int
	Text string
}

type dashboardRow struct {
	Name  string
	Color string
	Count int
	Share string
}

// serveDashboard renders per day and purpose how visitors decided.
func (a *AdminAPI) serveDashboard(w http.ResponseWriter, r *http.Request, stores []*auditStore) error {
	f, err := parseFilter(r)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if f.Until.IsZero() {
		f.Until = now.Truncate(24*time.Hour).AddDate(0, 0, 1)
	}
	if f.Since.IsZero() {
		f.Since = f.Until.AddDate(0, 0, -dashboardDefaultDays)
	}
	if !f.Since.Before(f.Until) {
		return apiError(http.StatusBadRequest, "since must be before until")
	}
	first := f.Since.UTC().Truncate(24 * time.Hour)
	last := f.Until.UTC().Add(-time.Millisecond).Truncate(24 * time.Hour)
	ndays := int(last.Sub(first)/(24*time.Hour)) + 1
	if ndays > dashboardMaxDays {
		return apiError(http.StatusBadRequest, "the dashboard shows at most %d days; narrow since and until", dashboardMaxDays)
	}
	stats, err := collectStats(r.Context(), stores, f)
	if err != nil {
		return err
	}
	page := dashboardPage{
		From:      first.Format(time.DateOnly),
		To:        last.Format(time.DateOnly),
		Site:      f.Site,
		Stores:    storeNames(stores),
		Generated: now.Format("2006-01-02 15:04 UTC"),
		Decisions: stats.Decisions,
		Erased:    stats.Erased,
		Legend:    decisionClasses,
	}
	days := make([]string, ndays)
	for i := range days {
		days[i] = first.AddDate(0, 0, i).Format(time.DateOnly)
	}
	byDay := map[string]*dayStats{}
	for _, d := range stats.Days {
		byDay[d.Day] = d
	}
	// One scale for every chart, so that purposes compare at a glance.
	top := 1
	for _, d := range stats.Days {
		for _, c := range d.Purposes {
			top = max(top, c.Decisions)
		}
	}
	for _, p := range stats.Purposes {
		page.Charts = append(page.Charts, drawChart(p, days, byDay, top, stats.Totals[p]))
	}

	var body bytes.Buffer
	if err := dashboardTemplate.Execute(&body, page); err != nil {
		return err
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Security-Policy", dashboardCSP)
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Frame-Options", "DENY")
	_, err = w.Write(body.Bytes())
	return err
}

// drawChart lays out one purpose's stacked bars, one per day.
func drawChart(purpose string, days []string, byDay map[string]*dayStats, top int, totals *decisionCounts) dashboardChart {
	step := max(4, min(28, chartPlotW/len(days)))
	barW := max(2, step*4/5)
	ch := dashboardChart{
		Purpose:  purpose,
		Width:    chartLeft + step*len(days) + 8,
		Height:   chartTop + chartPlotH + chartBottom,
		Baseline: chartTop + chartPlotH,
	}
	ch.PlotRight = ch.Width - 4
	if totals != nil {
		ch.Totals = *totals
	}
	ch.Rate = percent(ch.Totals.Granted, ch.Totals.Decisions)
	scale := func(n int) int { return int(math.Round(float64(n) * chartPlotH / float64(top))) }
	for i, day := range days {
		x := chartLeft + i*step + (step-barW)/2
		var c *decisionCounts
		if d := byDay[day]; d != nil {
			c = d.Purposes[purpose]
		}
		if c != nil {
			// Stack by cumulative rounding, so segments add up exactly.
			cum := 0
			for _, k := range decisionClasses {
				n := k.count(c)
				if n == 0 {
					continue
				}
				y0, y1 := scale(cum), scale(cum+n)
				cum += n
				ch.Rects = append(ch.Rects, chartRect{
					X: x, Y: ch.Baseline - y1, W: barW, H: max(1, y1-y0), Color: k.Color,
					Title: fmt.Sprintf("%s, %s: %d %s of %d", day, purpose, n, k.Name, c.Decisions),
				})
			}
		}
		// About eight labels, the latest day always among them; the
		// first label carries the year.
		if every := (len(days) + 7) / 8; (len(days)-1-i)%every == 0 {
			text := day[5:]
			if len(ch.XLabels) == 0 {
				text = day
			}
			ch.XLabels = append(ch.XLabels, chartLabel{X: chartLeft + i*step + step/2, Y: ch.Baseline + 18, Text: text})
		}
	}
	for _, n := range []int{0, top / 2, top} {
		if n == top/2 && (top < 4 || top%2 != 0) {
			continue
		}
		ch.YLabels = append(ch.YLabels, chartLabel{X: chartLeft - 6, Y: ch.Baseline - scale(n), Text: strconv.Itoa(n)})
	}
	for _, k := range decisionClasses {
		n := k.count(&ch.Totals)
		ch.Rows = append(ch.Rows, dashboardRow{Name: k.Name, Color: k.Color, Count: n, Share: percent(n, ch.Totals.Decisions)})
	}
	return ch
}

func percent(n, of int) string {
	if of == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f %%", 100*float64(n)/float64(of))
}

var dashboardTemplate = template.Must(template.New("dashboard").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Consent decisions {{.From}} to {{.To}}</title>
<style>
body { font: 14px/1.45 system-ui, sans-serif; color: #1b1b1b; margin: 2rem auto; max-width: 60rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .25rem; }
h2 { font-size: 1.1rem; margin: 2rem 0 .25rem; }
.meta, .note { color: #555; }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 1rem; }
.legend svg { vertical-align: -2px; margin-right: .3rem; }
svg text { font: 11px system-ui, sans-serif; fill: #444; }
svg .y { text-anchor: end; dominant-baseline: middle; }
svg .x { text-anchor: middle; }
svg .grid { stroke: #ddd; }
svg .axis { stroke: #888; }
.chart { overflow-x: auto; }
table { border-collapse: collapse; margin-top: .5rem; }
td, th { padding: .15rem .75rem .15rem 0; text-align: right; }
td:first-child, th:first-child { text-align: left; }
</style>
</head>
<body>
<h1>Consent decisions</h1>
<p class="meta">{{.From}} to {{.To}} (UTC){{if .Site}} · site {{.Site}}{{end}} · {{.Decisions}} decisions{{if .Erased}} and {{.Erased}} erased{{end}} · {{.Stores}} · generated {{.Generated}}</p>
<ul class="legend">{{range .Legend}}
<li><svg width="12" height="12" aria-hidden="true"><rect width="12" height="12" fill="{{.Color}}"/></svg>{{.Name}}</li>{{end}}
</ul>
{{if not .Charts}}<p>No decisions in this range.</p>{{end}}
{{range $c := .Charts}}<section>
<h2>{{.Purpose}}</h2>
<p class="note">{{.Totals.Decisions}} decisions stating this purpose; {{.Rate}} left it granted.</p>
<div class="chart"><svg width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="{{.Purpose}}: decisions per day">
{{range .YLabels}}<line class="grid" x1="48" x2="{{$c.PlotRight}}" y1="{{.Y}}" y2="{{.Y}}"/><text class="y" x="{{.X}}" y="{{.Y}}">{{.Text}}</text>
{{end}}{{range .Rects}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Color}}"><title>{{.Title}}</title></rect>
{{end}}<line class="axis" x1="48" x2="{{.PlotRight}}" y1="{{.Baseline}}" y2="{{.Baseline}}"/>
{{range .XLabels}}<text class="x" x="{{.X}}" y="{{.Y}}">{{.Text}}</text>
{{end}}</svg></div>
<table>
<tr><th>decision</th><th>count</th><th>share</th></tr>
{{range .Rows}}<tr><td><svg width="10" height="10" aria-hidden="true"><rect width="10" height="10" fill="{{.Color}}"/></svg> {{.Name}}</td><td>{{.Count}}</td><td>{{.Share}}</td></tr>
{{end}}</table>
</section>
{{end}}<p class="note">A decision is one consent record that decides about the purpose. Withdrawn: the visitor withdrew consent. GPC-defaulted: a browser privacy signal switched the purpose off. Custom: the visitor saved their own selection. Accepted and rejected: accept all and reject all. The necessary purpose, which cannot be refused, is not shown.</p>
</body>
</html>
`))
