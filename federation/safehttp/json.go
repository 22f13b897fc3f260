package safehttp

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"

	"nineten.dev"
)

// DefaultAccept is what GetJSON asks for when the caller names nothing:
// the two ActivityPub media types, as Mastodon and PeerTube send them.
const DefaultAccept = `application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"`

// MaxDepth is how deeply arrays and objects may nest in a document
// GetJSON decodes. Real ActivityPub documents stay under ten levels; the
// limit stops a hostile server from making the decoder recurse
// thousands of levels deep.
const MaxDepth = 64

// jsonTypes are the media types accepted as JSON: the ActivityPub ones,
// WebFinger's JRD and plain JSON, which some servers use for both.
var jsonTypes = map[string]bool{
	"application/activity+json": true,
	"application/ld+json":       true,
	"application/json":          true,
	"application/jrd+json":      true,
}

// GetJSON fetches rawURL with Accept set to accept (DefaultAccept if
// empty), lets sign add an HTTP signature if sign is not nil, and decodes
// the JSON answer into v. The answer must be a 2xx with a JSON media type,
// at most MaxBody bytes and nested at most MaxDepth levels. A redirect to
// the same server is signed again; one to another server is not signed.
//
// Errors are *nineten.Error: besides those of Do, KindNotFound for 404 and
// 410, KindPermission for 401 and 403, KindUnavailable for 429 and 5xx,
// KindInvalid for another status, a wrong media type or bad JSON,
// KindTooLarge for a body over MaxBody.
func (c *Client) GetJSON(ctx context.Context, rawURL string, accept string, sign func(*http.Request) error, v any) error {
	const op = "safehttp.GetJSON"
	// The signer travels in the context so that checkRedirect can re-sign.
	req, err := http.NewRequestWithContext(context.WithValue(ctx, signKey{}, sign), http.MethodGet, rawURL, nil)
	if err != nil {
		return nineten.E(op, nineten.KindInvalid, fmt.Sprintf("%q is not a URL we can fetch", show(rawURL)), err)
	}
	if accept == "" {
		accept = DefaultAccept
	}
	req.Header.Set("Accept", accept)
	req.Header.Set("User-Agent", c.opts.UserAgent)
	if sign != nil {
		// Checked first so that nothing is signed for a URL we refuse.
		if err := c.checkURL(req.URL); err != nil {
			return c.wrap(op, req.URL, req.URL.String(), err)
		}
		if err := sign(req); err != nil {
			return nineten.E(op, "could not sign the request for "+show(rawURL), err)
		}
	}
	resp, err := c.do(op, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	where := show(resp.Request.URL.String())
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		kind := nineten.KindInvalid
		switch {
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
			kind = nineten.KindNotFound
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			kind = nineten.KindPermission
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			kind = nineten.KindUnavailable
		}
		return nineten.E(op, kind, fmt.Sprintf("%s answered %s", where, resp.Status))
	}
	ct := resp.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || !jsonTypes[mt] {
		return nineten.E(op, nineten.KindInvalid, fmt.Sprintf("%s answered with Content-Type %q, not JSON", where, ct))
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		if nineten.ErrorKind(err) == nineten.KindTooLarge {
			return err
		}
		return nineten.E(op, nineten.KindUnavailable, "could not read the response from "+where, err)
	}
	if err := checkDepth(body, MaxDepth); err != nil {
		return nineten.E(op, nineten.KindInvalid, fmt.Sprintf("the JSON from %s %s", where, err))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nineten.E(op, nineten.KindInvalid, "the response from "+where+" is not the JSON expected", err)
	}
	return nil
}

// checkDepth scans data once, without recursion, and fails if arrays and
// objects nest deeper than max. It only tracks strings (so brackets inside
// them do not count) and brackets; whether the JSON is valid is left to
// the decoder that runs afterwards.
func checkDepth(data []byte, max int) error {
	depth := 0
	inString, escaped := false, false
	for _, b := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
			continue
		}
		switch b {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return fmt.Errorf("nests deeper than %d levels", max)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}
