// A listener's money: balance, the $10 subscription, simulated deposits
// on demo nodes, the history of their ledger transactions, and "where my
// money went": for each month, the artists their $9 paid and how much each
// got, exactly as the ledger recorded it. Artists also see their earnings.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { useFetch, useTitle } from '../hooks.js';
import { Empty, ErrorBox, Guard, Status } from '../components.js';
import { formatMoney, formatTime, plural } from '../format.js';
import { hasRole, useSession } from '../session.js';

const OPS = {
  deposit: 'Deposit',
  subscribe: 'Subscription',
  renew: 'Renewal',
  open: 'Month opened: $1 to the node, $9 to the pool',
  settle: 'Paid to your artists',
  hold: 'Held (no listening that month)',
  refund: 'Refund of held money',
  payout: 'Payout',
};

export function Money() {
  useTitle('Your money');
  return html`<div class="page money">
    <h1>Your money</h1>
    <${Guard}><${MoneyPage} /></${Guard}>
  </div>`;
}

function MoneyPage() {
  const s = useSession();
  const money = useFetch('/api/v1/me/money');
  const m = money.data;
  return html`
    ${m ? html`<${ErrorBox} error=${money.error} onRetry=${money.reload} />` : html`<${Status} result=${money} />`}
    ${m && html`
      ${m.simulated_payments && html`<p class="banner simulated" role="note">
        This is a demo node: payments here are <strong>simulated</strong>. No real money moves.
      </p>`}
      <${Summary} m=${m} onChange=${money.reload} />
      ${m.simulated_payments && html`<${SimulatedDeposit} onDone=${money.reload} />`}
      <${WhereItWent} />
      <${History} items=${m.history} />
    `}
    ${hasRole(s.user, 'artist') && html`<${Earnings} />`}`;
}

function Summary({ m, onChange }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const sub = m.subscription;
  const act = async (method) => {
    setBusy(true);
    setError(null);
    try {
      await (method === 'PUT' ? api.put('/api/v1/me/subscription') : api.delete('/api/v1/me/subscription'));
      onChange();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const active = sub && (sub.status === 'active' || sub.status === 'grace');
  return html`<section class="money-summary" aria-labelledby="summary-title">
    <h2 id="summary-title" class="visually-hidden">Balance and subscription</h2>
    <dl class="facts">
      <div><dt>Balance</dt><dd data-testid="balance">${formatMoney(m.balance)}</dd></div>
      ${m.held > 0 && html`<div><dt>Held for your artists</dt><dd>${formatMoney(m.held)}</dd></div>`}
      <div><dt>Subscription</dt><dd data-testid="subscription-status">${sub ? describe(sub) : 'Not subscribed'}</dd></div>
      ${m.renews_on && html`<div><dt>Renews on</dt><dd>${new Date(m.renews_on).toLocaleDateString(undefined, { dateStyle: 'long', timeZone: 'UTC' })}</dd></div>`}
    </dl>
    <p class="muted">${formatMoney(m.price)} a month: $1 keeps this node running, $9 goes to the 9 artists you listen to most, in proportion to your listening.</p>
    ${sub?.status === 'active'
      ? html`<button type="button" class="btn" disabled=${busy} onClick=${() => act('DELETE')}>Cancel renewal</button>`
      : html`<button type="button" class="btn primary" disabled=${busy || (active && sub.status !== 'grace')} onClick=${() => act('PUT')}>
          ${sub?.status === 'grace' ? 'Pay this month' : `Subscribe for ${formatMoney(m.price)}`}</button>`}
    <${ErrorBox} error=${error} />
  </section>`;
}

function describe(sub) {
  switch (sub.status) {
    case 'active': return `Active, paid through ${sub.paid}`;
    case 'cancelled': return `Cancelled, paid through ${sub.paid}`;
    case 'grace': return `Unpaid for ${sub.grace}: top up your balance`;
    default: return 'Expired';
  }
}

function SimulatedDeposit({ onDone }) {
  const [dollars, setDollars] = useState('30');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const micro = Math.round(Number(dollars) * 100) * 10000;
      await api.post('/api/v1/me/deposits/simulated', { amount: micro });
      onDone();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="inline-form" onSubmit=${submit} aria-labelledby="sim-title">
    <h2 id="sim-title">Add simulated money</h2>
    <label>Amount in dollars <input type="number" min="1" max="1000" step="0.01" value=${dollars} onInput=${(e) => setDollars(e.currentTarget.value)} /></label>
    <button class="btn" disabled=${busy}>Add simulated money</button>
    <${ErrorBox} error=${error} />
  </form>`;
}

function recentMonths(n) {
  const out = [];
  const d = new Date();
  let y = d.getUTCFullYear();
  let m = d.getUTCMonth() + 1;
  for (let i = 0; i < n; i++) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    if (--m === 0) { m = 12; y--; }
  }
  return out;
}

function WhereItWent() {
  const months = recentMonths(6);
  const [period, setPeriod] = useState(months[1]);
  const month = useFetch(`/api/v1/me/money/${period}`);
  const d = month.data;
  const heard = d ? d.shares.reduce((a, s) => a + s.seconds_heard, 0) : 0;
  return html`<section aria-labelledby="went-title">
    <div class="section-head">
      <h2 id="went-title">Where my money went</h2>
      <label>Month <select value=${period} onChange=${(e) => setPeriod(e.currentTarget.value)}>
        ${months.map((p) => html`<option value=${p}>${p}</option>`)}
      </select></label>
    </div>
    <${Status} result=${month} />
    ${d && !d.settled && d.shares.length > 0 && html`<p class="muted">Not paid out yet: these are the artists you have listened to most so far. Amounts are settled after the month ends.</p>`}
    ${d && d.shares.length === 0 && (d.held > 0
      ? html`<${Empty}>No eligible listening in ${d.period}: your ${formatMoney(d.held)} is held and goes to the artists of the next month you listen.</${Empty}>`
      : html`<${Empty}>Nothing in ${d.period}. Listens of 30 seconds or more count.</${Empty}>`)}
    ${d && d.shares.length > 0 && html`<div class="table-wrap"><table data-testid="money-went">
      <thead><tr><th>#</th><th>Artist</th><th>Listens</th><th>Time heard</th><th>Share</th>${d.settled && html`<th>Amount</th>`}</tr></thead>
      <tbody>${d.shares.map((s, i) => html`<tr key=${s.artist}>
        <td>${i + 1}</td>
        <td>${s.artist_id ? html`<a href=${`/app/artists/${s.artist_id}`}>${s.name}</a>` : s.name}</td>
        <td>${s.listens}</td>
        <td>${formatTime(s.seconds_heard)}</td>
        <td>${heard ? `${((100 * s.seconds_heard) / heard).toFixed(1)}%` : ''}</td>
        ${d.settled && html`<td class="num">${formatMoney(s.amount)}</td>`}
      </tr>`)}</tbody>
      ${d.settled && html`<tfoot><tr><td colspan="5">Total (ledger transaction ${d.tx.map((t) => `#${t}`).join(', ')})</td><td class="num">${formatMoney(d.total)}</td></tr></tfoot>`}
    </table></div>`}
  </section>`;
}

function History({ items }) {
  return html`<section aria-labelledby="history-title">
    <h2 id="history-title">History</h2>
    ${items.length === 0
      ? html`<${Empty}>No transactions yet.</${Empty}>`
      : html`<div class="table-wrap"><table>
          <thead><tr><th>Ledger #</th><th>What</th><th>Month</th><th>Your balance</th><th>Amount moved</th></tr></thead>
          <tbody>${items.map((e) => html`<tr key=${e.seq}>
            <td>${e.seq}</td>
            <td>${OPS[e.op] || e.op}${e.ref?.startsWith('sim:') ? ' (simulated)' : ''}</td>
            <td>${e.period || ''}</td>
            <td class="num">${e.amount ? formatMoney(e.amount) : ''}</td>
            <td class="num">${formatMoney(e.total)}</td>
          </tr>`)}</tbody>
        </table></div>`}
  </section>`;
}

function Earnings() {
  const earnings = useFetch('/api/v1/me/earnings');
  const items = earnings.data?.items || [];
  return html`<section aria-labelledby="earnings-title">
    <h2 id="earnings-title">Your earnings as an artist</h2>
    <${Status} result=${earnings} />
    ${items.map((a) => html`<div key=${a.artist_id}>
      <h3>${a.name}: ${formatMoney(a.balance)} earned, not yet paid out</h3>
      ${a.months.length === 0
        ? html`<${Empty}>No settled month yet.</${Empty}>`
        : html`<div class="table-wrap"><table>
            <thead><tr><th>Month</th><th>Listeners</th><th>Amount</th></tr></thead>
            <tbody>${a.months.map((m) => html`<tr key=${m.period}><td>${m.period}</td><td>${plural(m.listeners, 'listener')}</td><td class="num">${formatMoney(m.amount)}</td></tr>`)}</tbody>
          </table></div>`}
    </div>`)}
  </section>`;
}
