// Package report turns a verification report (document.VerifyReport) into what people read:
// the message catalogue (Chinese and English, keyed by problem code), the label/value lines of
// a signature, and the exported report files (PDF and JSON). The app, `sealctl verify` and the
// hub's public seal check use it, so a verdict reads the same everywhere. It is UI-free (no
// fyne): the PDF is drawn with tdewolff/canvas and embeds a subset of the bundled font, so its
// text is selectable and searchable.
package report

import (
	"fmt"
	"os"
	"strings"
	"time"

	"sealdesk/document"
)

// Lang is a language of the catalogue.
type Lang string

const (
	Chinese Lang = "zh" // the app's default
	English Lang = "en"
)

// LangFromEnv picks the language of a command-line user: SEALDESK_LANG, else the POSIX locale
// (LC_ALL, LC_MESSAGES, LANG); Chinese for a zh locale, English otherwise (scripts running
// under LANG=C keep English output).
func LangFromEnv() Lang {
	for _, k := range []string{"SEALDESK_LANG", "LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := strings.ToLower(os.Getenv(k)); v != "" {
			if strings.HasPrefix(v, "zh") {
				return Chinese
			}
			return English
		}
	}
	return English
}

func pick(l Lang, zh, en string) string {
	if l == English {
		return en
	}
	return zh
}

// Text is the plain-language sentence for a problem code. A code missing from the catalogue
// (a hub code this version does not know) reads as a generic sentence naming the code.
func Text(code string, l Lang) string {
	if m, ok := catalogue[code]; ok {
		return pick(l, m[0], m[1])
	}
	return pick(l, "其他问题（"+code+"）", "Other finding ("+code+")")
}

// HasText reports whether the catalogue has the code.
func HasText(code string) bool { _, ok := catalogue[code]; return ok }

// labels are the report's fixed words.
var labels = map[string][2]string{
	"title":         {"签章验证报告", "Signature verification report"},
	"file":          {"文件", "File"},
	"format":        {"格式", "Format"},
	"generated":     {"生成时间", "Generated"},
	"overall":       {"结论", "Verdict"},
	"signature":     {"签章 %d：%s", "Signature %d: %s"},
	"signer":        {"签章人", "Signer"},
	"seal":          {"印章", "Seal"},
	"time":          {"签章时间", "Signed at"},
	"integrity":     {"完整性", "Integrity"},
	"changes":       {"签后修改", "Changes after signing"},
	"trust":         {"证书", "Certificate"},
	"revocation":    {"吊销状态", "Revocation"},
	"registry":      {"印章登记", "Seal registry"},
	"reasons":       {"原因", "Why"},
	"notes":         {"说明", "Notes"},
	"page":          {"页码", "Page"},
	"none":          {"本文件没有签章", "This document has no signatures"},
	"uncovered":     {"未受任何签章保护的内容", "Not protected by any signature"},
	"document":      {"文件问题", "Document findings"},
	"timestamp":     {"（时间戳证明）", " (proven by a time-stamp)"},
	"claimed":       {"（签章人声称，未经时间戳证明）", " (claimed by the signer, no time-stamp)"},
	"noseal":        {"无（非电子印章签名）", "none (not an e-seal signature)"},
	"sealchecks":    {"印章自身检查：%s", "seal checks: %s"},
	"wholeDoc":      {"覆盖整个文件", "Covers the whole document"},
	"yes":           {"是", "yes"},
	"no":            {"否", "no"},
	"notAsked":      {"未查询", "not asked"},
	"nochange":      {"无", "none"},
	"valid":         {"有效", "Valid"},
	"invalid":       {"无效", "Invalid"},
	"indeterminate": {"无法确定", "Indeterminate"},
	"ok":            {"通过", "ok"},
	"failed":        {"未通过", "failed"},
	"unknown":       {"无法确认", "could not be established"},
	"allowed":       {"仅有允许的修改", "allowed changes only"},
	"disallowed":    {"有不允许的修改", "disallowed changes"},
}

// Label returns a fixed word of the report ("signer", "time", …) in l.
func Label(key string, l Lang) string {
	if m, ok := labels[key]; ok {
		return pick(l, m[0], m[1])
	}
	return key
}

// IndicationText is the verdict in words: 有效 / 无效 / 无法确定.
func IndicationText(ind document.Indication, l Lang) string {
	switch ind {
	case document.IndicationValid:
		return Label("valid", l)
	case document.IndicationInvalid:
		return Label("invalid", l)
	}
	return Label("indeterminate", l)
}

// FactText is a fact's value in words ("" = not asked).
func FactText(v string, l Lang) string {
	switch v {
	case "":
		return Label("notAsked", l)
	case document.None:
		return Label("nochange", l)
	case string(document.OK), string(document.Failed), string(document.Unknown), document.Allowed, document.Disallowed:
		return Label(v, l)
	}
	return v
}

// TimeText is a report time (RFC 3339) in the reader's local time, with where it comes from.
func TimeText(s *document.SignatureReport, l Lang) string {
	if s.SignedAt == "" {
		return "—"
	}
	out := s.SignedAt
	if t, err := time.Parse(time.RFC3339, s.SignedAt); err == nil {
		out = t.In(time.Local).Format("2006-01-02 15:04:05 MST")
	}
	switch s.TimeSource {
	case "timestamp":
		out += Label("timestamp", l)
	case "claimed":
		out += Label("claimed", l)
	}
	return out
}

// Reasons are the plain sentences that explain a signature's indication: the catalogue text
// of each problem that decided it (document.SignatureVerdict), without repeats. Valid
// signatures have none.
func Reasons(s *document.SignatureReport, l Lang) []string {
	_, why := document.SignatureVerdict(s)
	return texts(why, l)
}

// Notes are the other findings of a signature (information that does not change the
// verdict, or weaker findings than those in Reasons), without repeats.
func Notes(s *document.SignatureReport, l Lang) []string {
	_, why := document.SignatureVerdict(s)
	decided := map[string]bool{}
	for _, p := range why {
		decided[p.Code] = true
	}
	var rest []document.Problem
	for _, p := range s.Problems {
		if !decided[p.Code] {
			rest = append(rest, p)
		}
	}
	return texts(rest, l)
}

func texts(ps []document.Problem, l Lang) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range ps {
		t := Text(p.Code, l)
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// Lines is a signature as label/value lines, the same in the app's panel and in the exported
// report.
func Lines(s *document.SignatureReport, l Lang) [][2]string {
	seal := Label("noseal", l)
	if s.Seal != nil {
		seal = fmt.Sprintf("%s（%s，%s）", s.Seal.Name, s.Seal.ESID, fmt.Sprintf(Label("sealchecks", l), FactText(string(s.Seal.Checks), l)))
		if l == English {
			seal = fmt.Sprintf("%s (%s, %s)", s.Seal.Name, s.Seal.ESID, fmt.Sprintf(Label("sealchecks", l), FactText(string(s.Seal.Checks), l)))
		}
	}
	signer := s.Signer
	if signer == "" {
		signer = "—"
	}
	lines := [][2]string{
		{Label("signer", l), signer},
		{Label("seal", l), seal},
		{Label("time", l), TimeText(s, l)},
		{Label("integrity", l), FactText(string(s.Integrity), l)},
		{Label("changes", l), FactText(s.ChangesAfter, l)},
		{Label("trust", l), FactText(string(s.Trust), l)},
		{Label("revocation", l), FactText(string(s.Revocation), l)},
		{Label("registry", l), FactText(string(s.Registry), l)},
	}
	if len(s.Pages) > 0 {
		lines = append(lines, [2]string{Label("page", l), fmt.Sprint(s.Pages[0] + 1)})
	}
	return lines
}
