package federation

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	nineten "nineten.dev"
)

// ReportKeys are what a node publishes in its actor about its listening
// reports: the age recipient its cluster peers encrypt their reports to,
// the key that signs its own reports and the cluster it belongs to. Our
// JSON-LD context names them nineten:reportRecipient, nineten:reportSigner
// and nineten:cluster.
type ReportKeys struct {
	Recipient string `json:"reportRecipient,omitempty"`
	Signer    string `json:"reportSigner,omitempty"`
	Cluster   string `json:"cluster,omitempty"`
}

// nodeReportProperties adds the node's report keys to its actor document.
func (f *Service) nodeReportProperties(doc map[string]any) {
	if f.Reports.Recipient != "" {
		doc["reportRecipient"] = f.Reports.Recipient
	}
	if f.Reports.Signer != "" {
		doc["reportSigner"] = f.Reports.Signer
	}
	if f.Reports.Cluster != "" {
		doc["cluster"] = f.Reports.Cluster
	}
}

// PeerReportKeys reads the report keys from the node actor of the 9ten
// node at base, its base URL (https://music.example).
func (f *Service) PeerReportKeys(ctx context.Context, base string) (ReportKeys, error) {
	const op = "federation.PeerReportKeys"
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" {
		return ReportKeys{}, nineten.E(op, nineten.KindInvalid, fmt.Sprintf("cluster peer %q is not a node's base URL like https://music.example", base))
	}
	var doc struct {
		ID string `json:"id"`
		ReportKeys
	}
	if err := f.Client.GetJSON(ctx, u.String()+"/actor", "", f.signGET(ctx), &doc); err != nil {
		return ReportKeys{}, nineten.E(op, nineten.KindUnavailable, "cannot read the node actor of cluster peer "+u.String(), err)
	}
	if doc.Recipient == "" {
		return ReportKeys{}, nineten.E(op, nineten.KindUnavailable, "cluster peer "+u.String()+" publishes no report recipient: is it a 9ten node with listening reports?")
	}
	return doc.ReportKeys, nil
}
