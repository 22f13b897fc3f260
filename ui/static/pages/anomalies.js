// Fake-stream flags: the admin's review (each flag's evidence, one click to
// clear or confirm it or every flag of a rule, and a chart of flags per
// rule), an artist's verified and held listens with the reasons, and a
// listener's held listens. Held listens count for nobody until an admin
// clears them; confirmed ones never count.
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { html } from '../html.js';
import { useFetch } from '../hooks.js';
import { Empty, ErrorBox, Status } from '../components.js';
import { formatDuration } from '../format.js';

const statusLabel = { held: 'awaiting review', cleared: 'cleared: counted', confirmed: 'confirmed: not counted' };

export function AnomalyReview() {
  const flags = useFetch('/api/v1/admin/anomalies');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const review = async (body, what) => {
    if (body.decision === 'confirmed' && !confirm(`Confirm ${what} as fake? Those listens will never count.`)) return;
    setBusy(true);
    setError(null);
    try {
      await api.post('/api/v1/admin/anomalies/review', body);
      flags.reload();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  if (!flags.data) return html`<${Status} result=${flags} />`;
  const { items, rules } = flags.data;
  const groups = rules.filter((r) => items.some((f) => f.rule === r.rule));
  return html`
    <${ErrorBox} error=${error || flags.error} />
    <section>
      <h2>Flags per rule</h2>
      <${RuleChart} rules=${rules} />
    </section>
    <section data-testid="anomalies">
      <h2>Awaiting review</h2>
      ${items.length === 0 && html`<${Empty}><p>No flagged listening awaits review.</p></${Empty}>`}
      ${groups.map(
        (r) => html`<section class="flag-group" key=${r.rule} data-rule=${r.rule}>
          <h3>${r.rule} <span class="sub">— ${r.means}</span></h3>
          <div class="actions">
            <button type="button" class="btn small" disabled=${busy}
              onClick=${() => review({ rule: r.rule, decision: 'cleared' }, `every ${r.rule} flag`)}>Clear all ${r.held}</button>
            <button type="button" class="btn small danger" disabled=${busy}
              onClick=${() => review({ rule: r.rule, decision: 'confirmed' }, `every ${r.rule} flag`)}>Confirm all ${r.held}</button>
          </div>
          <div class="table-wrap"><table>
            <thead><tr><th scope="col">Day</th><th scope="col">Score</th><th scope="col">What the rule saw</th><th scope="col">Evidence</th>
              <th scope="col">Listens</th><th scope="col"><span class="visually-hidden">Review</span></th></tr></thead>
            <tbody>
              ${items
                .filter((f) => f.rule === r.rule)
                .map(
                  (f) => html`<tr key=${f.id} data-flag=${f.id}>
                    <td>${f.day}</td>
                    <td><meter min="0" max="100" low="50" high="80" value=${f.score} aria-label="score"></meter> ${f.score}</td>
                    <td>${f.summary}<br /><span class="sub">${f.subject} · ${f.listeners?.length || 0} accounts, artists ${(f.artists || []).join(', ')}</span></td>
                    <td><${Evidence} evidence=${f.evidence} /></td>
                    <td>${f.listens}</td>
                    <td class="row-actions">
                      <button type="button" class="btn small" disabled=${busy} onClick=${() => review({ ids: [f.id], decision: 'cleared' }, 'this flag')}>Clear</button>
                      <button type="button" class="btn small danger" disabled=${busy} onClick=${() => review({ ids: [f.id], decision: 'confirmed' }, 'this flag')}>Confirm</button>
                    </td>
                  </tr>`,
                )}
            </tbody>
          </table></div>
        </section>`,
      )}
    </section>`;
}

function Evidence({ evidence }) {
  const keys = Object.keys(evidence || {}).sort();
  return html`<dl class="evidence">${keys.map((k) => html`<dt>${k.replaceAll('_', ' ')}</dt><dd>${evidence[k]}</dd>`)}</dl>`;
}

// RuleChart draws flags per rule as stacked horizontal bars: awaiting
// review, cleared and confirmed.
function RuleChart({ rules }) {
  const max = Math.max(1, ...rules.map((r) => r.held + r.cleared + r.confirmed));
  const row = 22;
  const label = 150;
  const width = 420;
  const parts = [
    ['held', 'var(--accent, #d97706)'],
    ['cleared', 'var(--ok, #16a34a)'],
    ['confirmed', 'var(--danger, #dc2626)'],
  ];
  return html`<figure class="chart">
    <svg role="img" aria-label="Flags per rule" viewBox=${`0 0 ${label + width + 40} ${rules.length * row}`} width="100%">
      ${rules.map((r, i) => {
        let x = label;
        const total = r.held + r.cleared + r.confirmed;
        return html`<g key=${r.rule}>
          <text x="0" y=${i * row + 15} font-size="12" fill="currentColor">${r.rule}</text>
          ${parts.map(([k, color]) => {
            const w = (r[k] / max) * width;
            const rect = html`<rect x=${x} y=${i * row + 4} width=${w} height=${row - 8} fill=${color}><title>${`${r[k]} ${k}`}</title></rect>`;
            x += w;
            return rect;
          })}
          <text x=${x + 4} y=${i * row + 15} font-size="12" fill="currentColor">${total}</text>
        </g>`;
      })}
    </svg>
    <figcaption class="sub">Flags per rule: <span style="color:#d97706">■</span> awaiting review,
      <span style="color:#16a34a">■</span> cleared, <span style="color:#dc2626">■</span> confirmed.</figcaption>
  </figure>`;
}

// ArtistListening shows an artist's owner this month's verified listens
// next to those held out of settlement, and why.
export function ArtistListening({ artistID }) {
  const month = new Date().toISOString().slice(0, 7);
  const data = useFetch(`/api/v1/artists/${artistID}/listening?period=${month}`);
  if (!data.data) return html`<${Status} result=${data} />`;
  const d = data.data;
  const total = d.verified.listens + d.held.listens + d.excluded.listens;
  const bar = (n) => `${total ? (100 * n) / total : 0}%`;
  return html`<section data-testid="artist-listening">
    <h2>Listening in ${d.period}</h2>
    <svg role="img" aria-label="Verified and held listens" width="100%" height="18" viewBox="0 0 100 18" preserveAspectRatio="none">
      <rect x="0" y="0" width=${bar(d.verified.listens)} height="18" fill="#16a34a" />
      <rect x=${bar(d.verified.listens)} y="0" width=${bar(d.held.listens)} height="18" fill="#d97706" />
      <rect x=${bar(d.verified.listens + d.held.listens)} y="0" width=${bar(d.excluded.listens)} height="18" fill="#dc2626" />
    </svg>
    <p>
      <span class="verified-listens">${d.verified.listens} verified listens</span> (${formatDuration(d.verified.heard_ms)}) ·
      <span class="held-listens">${d.held.listens} held for review</span> ·
      <span class="excluded-listens">${d.excluded.listens} excluded as fake</span>
    </p>
    ${d.flags.length > 0 && html`<${FlagReasons} flags=${d.flags} />`}
  </section>`;
}

function FlagReasons({ flags }) {
  return html`<ul class="flag-reasons">
    ${flags.map(
      (f) => html`<li key=${f.id}><strong>${f.day}, ${f.means}</strong> (${statusLabel[f.status] || f.status}): ${f.summary}</li>`,
    )}
  </ul>`;
}

// HeldListens tells a listener why listens of theirs were held, if any were.
export function HeldListens() {
  const data = useFetch('/api/v1/me/held-listens');
  if (!data.data) return html`<${Status} result=${data} />`;
  if (data.data.items.length === 0) return null;
  return html`<section class="notice" data-testid="held-listens">
    <h2>Listens held out of the payout</h2>
    <p class="sub">Our fake-stream checks flagged some of your listening. Until an admin reviews it, it does not decide where your money goes;
      cleared, it counts as usual.</p>
    <${FlagReasons} flags=${data.data.items} />
  </section>`;
}
