// Between nodes (admin): the settlement statements sent to the nodes of
// the artists this node's listeners paid, and received for this node's
// artists, with their status; recording a payout made to another node's
// artist; the peer reviews of monthly reports and the disputes holding a
// settlement, with resolving one.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { useFetch } from '../hooks.js';
import { Empty, ErrorBox, Status } from '../components.js';
import { formatDate, formatMoney } from '../format.js';

export function BetweenNodes() {
  const statements = useFetch('/api/v1/admin/statements?limit=200');
  const reviews = useFetch('/api/v1/admin/reviews');
  return html`<section aria-labelledby="between-title" data-testid="admin-statements">
    <h2 id="between-title">Statements</h2>
    <p class="muted">Each settled month, this node's listeners' money for artists of other nodes stays here, and this node
      pays it out to them; their node gets a signed statement and acknowledges it. Statements received say what other
      nodes owe this node's artists.</p>
    <${Status} result=${statements} />
    ${statements.data && (statements.data.items.length === 0
      ? html`<${Empty}>No statement sent or received yet.</${Empty}>`
      : html`<div class="table-wrap"><table>
          <thead><tr><th scope="col">Month</th><th scope="col">Direction</th><th scope="col">Other node</th><th scope="col">Total</th>
            <th scope="col">Status</th><th scope="col">Lines</th></tr></thead>
          <tbody>${statements.data.items.map((st) => html`<tr key=${st.direction + st.id}>
            <td>${st.period}</td><td>${st.direction}</td><td>${st.direction === 'sent' ? st.payee : st.payer}</td>
            <td class="num">${formatMoney(st.total)}</td>
            <td>${st.status}${st.reason && html`<br /><span class="muted">${st.reason}</span>`}${st.conflicts > 0 && html`<br /><strong>${st.conflicts} other version(s) kept aside</strong>`}</td>
            <td>${st.lines.map((l) => html`<div key=${l.artist}>${l.artist}: ${formatMoney(l.amount)} ${l.paid_ref ? `paid (${l.paid_ref})` : 'pending'}${l.wallet ? ` → ${l.wallet}` : ''}</div>`)}</td>
          </tr>`)}</tbody>
        </table></div>`)}
    <${RemotePayout} onDone=${statements.reload} />
    <h2>Peer reviews</h2>
    <${Status} result=${reviews} />
    ${reviews.data && html`<${Reviews} data=${reviews.data} onDone=${reviews.reload} />`}
  </section>`;
}

// RemotePayout records a payout made from this node's payout wallet to an
// artist of another node (their whole balance here).
function RemotePayout({ onDone }) {
  const [artist, setArtist] = useState('');
  const [ref, setRef] = useState('');
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await api.post('/api/v1/admin/statements/payouts', { artist, ext_id: ref });
      setArtist('');
      setRef('');
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="inline-form" onSubmit=${submit}>
    <label>Artist <input value=${artist} placeholder="b.example/7" required onInput=${(e) => setArtist(e.currentTarget.value)} /></label>
    <label>Payout reference <input value=${ref} placeholder="usdp:0x…:0" required onInput=${(e) => setRef(e.currentTarget.value)} /></label>
    <button class="btn">Record the payout</button>
    <${ErrorBox} error=${error} />
  </form>`;
}

function Reviews({ data, onDone }) {
  const [error, setError] = useState(null);
  const resolve = async (month) => {
    setError(null);
    try {
      await api.post(`/api/v1/admin/disputes/${month}/resolve`);
      onDone();
    } catch (err) {
      setError(err);
    }
  };
  const rows = [...data.asked, ...data.given];
  return html`
    <${ErrorBox} error=${error} />
    ${data.disputes.filter((d) => !d.resolved).map((d) => html`<p key=${d.month + d.opened_at} class="error-text" data-testid="dispute">
      The settlement of ${d.month} is held: ${d.reason}
      <button type="button" class="btn" onClick=${() => resolve(d.month)}>Resolved</button></p>`)}
    ${rows.length === 0
      ? html`<${Empty}>No peer review yet: with cluster peers, each month's report is reviewed before it is settled.</${Empty}>`
      : html`<div class="table-wrap"><table>
          <thead><tr><th scope="col">Month</th><th scope="col">Whose</th><th scope="col">Peer</th><th scope="col">Status</th><th scope="col">Asked</th></tr></thead>
          <tbody>${rows.map((r) => html`<tr key=${r.role + r.month + r.peer}>
            <td>${r.month}</td><td>${r.role === 'asked' ? 'ours' : 'theirs'}</td><td>${r.peer}</td>
            <td>${r.status}${r.findings.length > 0 && html`<ul>${r.findings.map((f, i) => html`<li key=${i}>${f}</li>`)}</ul>`}</td>
            <td>${formatDate(r.requested_at)}</td></tr>`)}</tbody>
        </table></div>`}`;
}
