package sqlstore

import (
	"strings"
	"unicode"
)

// searchTerms splits what someone typed into a search box into the terms
// of a search, the same on both engines: every term must match, as a
// phrase of its words whose last may be the start of a word, so that
// results show up while a word is still being typed.
//
// Terms are split at white space and at control characters (FTS5 would
// take a NUL for the end of the query; PostgreSQL refuses NULs in text).
// Bytes that are not UTF-8 become U+FFFD, which separates words like any
// punctuation: PostgreSQL refuses such text, and FTS5 would read it in its
// own way. A term with no letter or digit is dropped: it has no word to
// match, and would make the whole query match nothing. No terms means that
// nothing in q can match.
func searchTerms(q string) []string {
	q = strings.ToValidUTF8(q, "\uFFFD")
	var terms []string
	for _, term := range strings.FieldsFunc(q, isSeparator) {
		if strings.ContainsFunc(term, isWordRune) {
			terms = append(terms, term)
		}
	}
	return terms
}

func isSeparator(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }

// ftsQuery turns what someone typed into an FTS5 MATCH expression that
// cannot be a syntax error, whatever they typed, or "" when nothing in it
// can match.
//
// FTS5 gives meaning to quotes, parentheses, '*', '^', '-', ':', '+' and the
// words AND, OR, NOT and NEAR. Inside a double-quoted string none of that
// applies (a quote is written twice), so every term becomes a quoted
// string matched as a prefix: "term"*. Terms are ANDed by juxtaposition.
func ftsQuery(q string) string {
	var b strings.Builder
	for _, term := range searchTerms(q) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		b.WriteString(strings.ReplaceAll(term, `"`, `""`))
		b.WriteString(`"*`)
	}
	return b.String()
}

// match is how a track listing finds the tracks a search matches: a join
// to the search index, a condition, and an order by relevance.
type match struct {
	join     string
	joinArgs []any
	cond     string
	condArgs []any
	order    string
}

// match returns the match of what someone typed, or false when nothing in
// it can match.
func (s *store) match(typed string) (match, bool) {
	terms := searchTerms(typed)
	if len(terms) == 0 {
		return match{}, false
	}
	if s.pg {
		// The terms go to the database as they are: it reduces them to
		// words with the very functions that made the documents
		// (migrations/postgres/00001_init.sql).
		return match{
			join:     ` JOIN tracks_fts f ON f.track_id = t.id CROSS JOIN nineten_search_query(?) AS q (query)`,
			joinArgs: []any{terms},
			cond:     `f.doc @@ q.query`,
			// Normalization 1 divides by the log of the document's length,
			// as bm25 prefers the shorter of two documents matching alike.
			order: `ts_rank(f.doc, q.query, 1) DESC`,
		}, true
	}
	return match{
		join:     ` JOIN tracks_fts ON tracks_fts.rowid = t.id`,
		cond:     `tracks_fts MATCH ?`,
		condArgs: []any{ftsQuery(typed)},
		order:    `tracks_fts.rank`,
	}, true
}

// contains is the condition that the text haystack contains the text
// needle (both SQL expressions): SQLite calls it instr, PostgreSQL strpos.
func (s *store) contains(haystack, needle string) string {
	if s.pg {
		return `strpos(` + haystack + `, ` + needle + `) > 0`
	}
	return `instr(` + haystack + `, ` + needle + `) > 0`
}
