// Upload one file or a whole album. Files upload one after another with a
// progress bar each; then each shows its processing on the server.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { useTitle } from '../hooks.js';
import { Guard } from '../components.js';
import { formatBytes } from '../format.js';
import { useSession } from '../session.js';
import { useStore } from '../store.js';
import { addUploads, cancelUpload, clearFinished, uploads } from '../uploads.js';

export function Upload() {
  useTitle('Upload');
  return html`<div class="page">
    <h1>Upload music</h1>
    <${Guard} role="artist"><${Uploader} /></${Guard}>
  </div>`;
}

function Uploader() {
  const s = useSession();
  const { items } = useStore(uploads);
  const [artistId, setArtistId] = useState(s.artists[0]?.id ?? null);
  const [dragging, setDragging] = useState(false);

  const add = (files) => {
    if (files.length) addUploads(files, s.artists.length > 1 ? artistId : null);
  };
  const onDrop = (e) => {
    e.preventDefault();
    setDragging(false);
    add(Array.from(e.dataTransfer.files).filter((f) => !f.type || f.type.startsWith('audio/')));
  };

  return html`
    ${s.artists.length > 1 &&
    html`<label class="inline-field">Upload as
      <select value=${artistId} onChange=${(e) => setArtistId(Number(e.currentTarget.value))}>
        ${s.artists.map((a) => html`<option value=${a.id}>${a.name}</option>`)}
      </select>
    </label>`}

    <label class=${dragging ? 'dropzone dragging' : 'dropzone'}
      onDragOver=${(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave=${() => setDragging(false)}
      onDrop=${onDrop}>
      <strong>Choose audio files</strong>
      <span class="sub">or drop them here. Pick several to upload an album; track details are read from the files' tags.</span>
      <input type="file" accept="audio/*" multiple class="visually-hidden"
        onChange=${(e) => {
          add(Array.from(e.currentTarget.files));
          e.currentTarget.value = ''; // allow choosing the same file again
        }} />
    </label>

    ${items.length > 0 &&
    html`<section>
      <div class="section-head">
        <h2>Uploads</h2>
        <button type="button" class="btn" onClick=${clearFinished}>Clear finished</button>
      </div>
      <ul class="uploads">${items.map((it) => html`<${UploadRow} key=${it.key} item=${it} />`)}</ul>
    </section>`}`;
}

const phaseText = {
  queued: 'Waiting',
  uploading: 'Uploading',
  processing: 'Processing',
  ready: 'Ready',
  failed: 'Processing failed',
  error: 'Upload failed',
};

function UploadRow({ item }) {
  const job = item.track?.job;
  // Upload progress first, then the server's processing progress.
  const value = item.phase === 'uploading' ? item.sent * 100 : item.phase === 'processing' ? job?.progress ?? 0 : null;
  return html`<li class=${`upload upload-${item.phase}`}>
    <div class="upload-head">
      ${item.track
        ? html`<a class="title" href=${`/app/tracks/${item.track.id}`}>${item.track.title || item.name}</a>`
        : html`<span class="title">${item.name}</span>`}
      <span class="sub">${formatBytes(item.size)}</span>
      <span class=${`badge badge-${item.phase}`}>
        ${phaseText[item.phase]}${value !== null ? ` ${Math.round(value)}%` : ''}
      </span>
      ${(item.phase === 'queued' || item.phase === 'uploading') &&
      html`<button type="button" class="btn small" aria-label=${`Cancel upload of ${item.name}`}
        onClick=${() => cancelUpload(item.key)}>Cancel</button>`}
    </div>
    ${value !== null && html`<progress max="100" value=${value} aria-label=${`${phaseText[item.phase]} ${item.name}`}></progress>`}
    ${item.error && html`<p class=${item.phase === 'processing' ? 'sub' : 'error-text'} role="alert">${item.error}</p>`}
  </li>`;
}
