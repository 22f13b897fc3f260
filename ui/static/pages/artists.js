// The list of artists on this node, filterable by name.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { usePaged, useTitle } from '../hooks.js';
import { ArtistGrid, Empty, ErrorBox, Loading } from '../components.js';

export function Artists() {
  useTitle('Artists');
  const [q, setQ] = useState('');
  const list = usePaged('/api/v1/artists', { q }, 48);
  return html`<div class="page">
    <div class="section-head">
      <h1>Artists</h1>
      <label class="inline-field">
        <span class="visually-hidden">Filter artists</span>
        <input type="search" placeholder="Filter artists" value=${q} onInput=${(e) => setQ(e.currentTarget.value)} />
      </label>
    </div>
    <${ErrorBox} error=${list.error} onRetry=${list.reload} />
    ${list.items.length > 0 && html`<${ArtistGrid} artists=${list.items} />`}
    ${list.loading && html`<${Loading} label="Loading artists…" />`}
    ${!list.loading && !list.error && list.items.length === 0 &&
    html`<${Empty}><p>${q ? `No artists match “${q}”.` : 'No artists yet.'}</p></${Empty}>`}
    ${list.hasMore && !list.loading && html`<button type="button" class="btn" onClick=${list.loadMore}>Load more</button>`}
  </div>`;
}
