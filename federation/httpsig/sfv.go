package httpsig

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file holds the part of RFC 8941 (Structured Field Values) that
// Signature-Input, Signature and Content-Digest use: dictionaries whose
// members are items or inner lists, with parameters. Parsing is strict:
// RFC 9421 rebuilds the "@signature-params" line by serializing what was
// parsed, so anything accepted here must serialize back to the exact bytes
// the signer signed, and anything outside the grammar is an error rather
// than a guess.

// token and decimal are distinct types so that serialization can tell a
// token from a string and a decimal from an integer.
type (
	token   string
	decimal float64
)

// param is one parameter; a parameter list keeps its order because the
// order is part of what gets signed.
type param struct {
	key   string
	value any // int64, decimal, string, token, []byte or bool
}

type params []param

func (ps params) get(key string) (any, bool) {
	for _, p := range ps {
		if p.key == key {
			return p.value, true
		}
	}
	return nil, false
}

// set overwrites a parameter in place or appends it, as RFC 8941 requires
// of a parser that meets a key twice.
func (ps *params) set(key string, v any) {
	for i := range *ps {
		if (*ps)[i].key == key {
			(*ps)[i].value = v
			return
		}
	}
	*ps = append(*ps, param{key, v})
}

type item struct {
	value  any // int64, decimal, string, token, []byte or bool
	params params
}

type innerList struct {
	items  []item
	params params
}

// member is one dictionary entry: value is an item or an innerList.
type member struct {
	key   string
	value any
}

type dictionary []member

func (d dictionary) get(key string) (any, bool) {
	for _, m := range d {
		if m.key == key {
			return m.value, true
		}
	}
	return nil, false
}

// sfError carries what is wrong; callers wrap it in a message that names
// the header.
type sfError struct{ msg string }

func (e *sfError) Error() string { return e.msg }

func sfErr(format string, args ...any) error { return &sfError{fmt.Sprintf(format, args...)} }

type sfParser struct {
	s string
	i int
}

func (p *sfParser) eof() bool  { return p.i >= len(p.s) }
func (p *sfParser) peek() byte { return p.s[p.i] }

func (p *sfParser) skipSP() {
	for !p.eof() && p.peek() == ' ' {
		p.i++
	}
}

// skipOWS skips optional whitespace, which RFC 8941 allows only around the
// commas of lists and dictionaries.
func (p *sfParser) skipOWS() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t') {
		p.i++
	}
}

// parseDictionary parses a whole field value as a dictionary (RFC 8941
// section 4.2.2). A key met twice keeps its first position and takes the
// last value, as the RFC says.
func parseDictionary(s string) (dictionary, error) {
	p := &sfParser{s: s}
	p.skipSP()
	var d dictionary
	for !p.eof() {
		key, err := p.parseKey()
		if err != nil {
			return nil, err
		}
		var v any
		if !p.eof() && p.peek() == '=' {
			p.i++
			v, err = p.parseItemOrInnerList()
		} else {
			var ps params
			ps, err = p.parseParams()
			v = item{value: true, params: ps}
		}
		if err != nil {
			return nil, err
		}
		replaced := false
		for i := range d {
			if d[i].key == key {
				d[i].value, replaced = v, true
				break
			}
		}
		if !replaced {
			d = append(d, member{key, v})
		}
		p.skipOWS()
		if p.eof() {
			return d, nil
		}
		if p.peek() != ',' {
			return nil, sfErr("expected a comma at byte %d", p.i)
		}
		p.i++
		p.skipOWS()
		if p.eof() {
			return nil, sfErr("trailing comma")
		}
	}
	return d, nil
}

func (p *sfParser) parseItemOrInnerList() (any, error) {
	if !p.eof() && p.peek() == '(' {
		return p.parseInnerList()
	}
	return p.parseItem()
}

func (p *sfParser) parseInnerList() (innerList, error) {
	p.i++ // '('
	var l innerList
	for !p.eof() {
		p.skipSP()
		if p.eof() {
			break
		}
		if p.peek() == ')' {
			p.i++
			ps, err := p.parseParams()
			if err != nil {
				return innerList{}, err
			}
			l.params = ps
			return l, nil
		}
		it, err := p.parseItem()
		if err != nil {
			return innerList{}, err
		}
		l.items = append(l.items, it)
		if p.eof() || (p.peek() != ' ' && p.peek() != ')') {
			return innerList{}, sfErr("expected a space or ')' in an inner list at byte %d", p.i)
		}
	}
	return innerList{}, sfErr("unterminated inner list")
}

func (p *sfParser) parseItem() (item, error) {
	v, err := p.parseBareItem()
	if err != nil {
		return item{}, err
	}
	ps, err := p.parseParams()
	if err != nil {
		return item{}, err
	}
	return item{value: v, params: ps}, nil
}

func (p *sfParser) parseParams() (params, error) {
	var ps params
	for !p.eof() && p.peek() == ';' {
		p.i++
		p.skipSP()
		key, err := p.parseKey()
		if err != nil {
			return nil, err
		}
		var v any = true
		if !p.eof() && p.peek() == '=' {
			p.i++
			if v, err = p.parseBareItem(); err != nil {
				return nil, err
			}
		}
		ps.set(key, v)
	}
	return ps, nil
}

func isLCAlpha(c byte) bool { return c >= 'a' && c <= 'z' }
func isAlpha(c byte) bool   { return isLCAlpha(c) || (c >= 'A' && c <= 'Z') }
func isDigit(c byte) bool   { return c >= '0' && c <= '9' }

func (p *sfParser) parseKey() (string, error) {
	if p.eof() || !(isLCAlpha(p.peek()) || p.peek() == '*') {
		return "", sfErr("expected a key at byte %d", p.i)
	}
	start := p.i
	for !p.eof() {
		c := p.peek()
		if !(isLCAlpha(c) || isDigit(c) || c == '_' || c == '-' || c == '.' || c == '*') {
			break
		}
		p.i++
	}
	return p.s[start:p.i], nil
}

func (p *sfParser) parseBareItem() (any, error) {
	if p.eof() {
		return nil, sfErr("expected a value at the end")
	}
	switch c := p.peek(); {
	case c == '-' || isDigit(c):
		return p.parseNumber()
	case c == '"':
		return p.parseString()
	case c == '*' || isAlpha(c):
		return p.parseToken(), nil
	case c == ':':
		return p.parseByteSequence()
	case c == '?':
		return p.parseBoolean()
	default:
		return nil, sfErr("unexpected %q at byte %d", c, p.i)
	}
}

func (p *sfParser) parseNumber() (any, error) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	numStart := p.i // the length limits count digits and the dot, not the sign
	if p.eof() || !isDigit(p.peek()) {
		return nil, sfErr("expected a digit at byte %d", p.i)
	}
	digits, dot := 0, -1
	for !p.eof() {
		c := p.peek()
		if isDigit(c) {
			digits++
		} else if c == '.' && dot < 0 {
			if digits > 12 {
				return nil, sfErr("decimal with more than 12 integer digits")
			}
			dot = p.i
		} else {
			break
		}
		p.i++
		if dot < 0 && digits > 15 {
			return nil, sfErr("integer with more than 15 digits")
		}
		if dot >= 0 && p.i-numStart > 16 {
			return nil, sfErr("decimal too long")
		}
	}
	text := p.s[start:p.i]
	if dot < 0 {
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, sfErr("bad integer %q", text)
		}
		return n, nil
	}
	if frac := p.i - dot - 1; frac < 1 || frac > 3 {
		return nil, sfErr("decimal needs 1 to 3 fraction digits")
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, sfErr("bad decimal %q", text)
	}
	return decimal(f), nil
}

func (p *sfParser) parseString() (string, error) {
	p.i++ // '"'
	var b strings.Builder
	for !p.eof() {
		c := p.peek()
		p.i++
		switch {
		case c == '\\':
			if p.eof() {
				return "", sfErr("unterminated string")
			}
			e := p.peek()
			p.i++
			if e != '"' && e != '\\' {
				return "", sfErr("bad escape in a string")
			}
			b.WriteByte(e)
		case c == '"':
			return b.String(), nil
		case c < 0x20 || c > 0x7e:
			return "", sfErr("non-printable byte in a string")
		default:
			b.WriteByte(c)
		}
	}
	return "", sfErr("unterminated string")
}

func isTChar(c byte) bool {
	return isAlpha(c) || isDigit(c) || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func (p *sfParser) parseToken() token {
	start := p.i
	p.i++
	for !p.eof() && (isTChar(p.peek()) || p.peek() == ':' || p.peek() == '/') {
		p.i++
	}
	return token(p.s[start:p.i])
}

func (p *sfParser) parseByteSequence() ([]byte, error) {
	p.i++ // ':'
	end := strings.IndexByte(p.s[p.i:], ':')
	if end < 0 {
		return nil, sfErr("unterminated byte sequence")
	}
	text := p.s[p.i : p.i+end]
	p.i += end + 1
	for i := 0; i < len(text); i++ {
		c := text[i]
		if !(isAlpha(c) || isDigit(c) || c == '+' || c == '/' || c == '=') {
			return nil, sfErr("bad character in a byte sequence")
		}
	}
	return decodeBase64(text)
}

// decodeBase64 accepts standard base64 with or without its "=" padding:
// RFC 8941 asks parsers not to fail on missing padding.
func decodeBase64(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.Strict().DecodeString(s); err == nil {
		return b, nil
	}
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New("bad base64")
	}
	return b, nil
}

func (p *sfParser) parseBoolean() (bool, error) {
	p.i++ // '?'
	if p.eof() {
		return false, sfErr("bad boolean")
	}
	c := p.peek()
	p.i++
	switch c {
	case '1':
		return true, nil
	case '0':
		return false, nil
	}
	return false, sfErr("bad boolean")
}

// Serialization (RFC 8941 section 4.1), used to write Signature-Input and
// to rebuild "@signature-params" exactly as the signer wrote it.

func (l innerList) serialize(b *strings.Builder) error {
	b.WriteByte('(')
	for i, it := range l.items {
		if i > 0 {
			b.WriteByte(' ')
		}
		if err := it.serialize(b); err != nil {
			return err
		}
	}
	b.WriteByte(')')
	return l.params.serialize(b)
}

func (it item) serialize(b *strings.Builder) error {
	if err := serializeBareItem(b, it.value); err != nil {
		return err
	}
	return it.params.serialize(b)
}

func (ps params) serialize(b *strings.Builder) error {
	for _, p := range ps {
		b.WriteByte(';')
		b.WriteString(p.key)
		if v, ok := p.value.(bool); ok && v {
			continue // a true boolean parameter is written as its bare key
		}
		b.WriteByte('=')
		if err := serializeBareItem(b, p.value); err != nil {
			return err
		}
	}
	return nil
}

func serializeBareItem(b *strings.Builder, v any) error {
	switch v := v.(type) {
	case int64:
		if v > 999_999_999_999_999 || v < -999_999_999_999_999 {
			return sfErr("integer out of range")
		}
		b.WriteString(strconv.FormatInt(v, 10))
	case decimal:
		s := strconv.FormatFloat(float64(v), 'f', 3, 64)
		s = strings.TrimRight(s, "0")
		if strings.HasSuffix(s, ".") {
			s += "0"
		}
		b.WriteString(s)
	case string:
		b.WriteByte('"')
		for i := 0; i < len(v); i++ {
			c := v[i]
			if c < 0x20 || c > 0x7e {
				return sfErr("non-printable byte in a string")
			}
			if c == '"' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		b.WriteByte('"')
	case token:
		b.WriteString(string(v))
	case []byte:
		b.WriteByte(':')
		b.WriteString(base64.StdEncoding.EncodeToString(v))
		b.WriteByte(':')
	case bool:
		if v {
			b.WriteString("?1")
		} else {
			b.WriteString("?0")
		}
	default:
		return sfErr("cannot serialize %T", v)
	}
	return nil
}

// serialize writes a whole dictionary field value; used in tests to check
// that parsing and serializing agree.
func (d dictionary) serialize() (string, error) {
	var b strings.Builder
	for i, m := range d {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.key)
		var err error
		switch v := m.value.(type) {
		case innerList:
			b.WriteByte('=')
			err = v.serialize(&b)
		case item:
			if t, ok := v.value.(bool); ok && t {
				err = v.params.serialize(&b) // "key;params" means key=?1
			} else {
				b.WriteByte('=')
				err = v.serialize(&b)
			}
		default:
			err = sfErr("bad member %T", v)
		}
		if err != nil {
			return "", err
		}
	}
	return b.String(), nil
}
