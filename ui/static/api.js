// The JSON API client. Every failure becomes an ApiError whose message is
// the server's RFC 9457 `detail`, because that text is written for the
// person using the app and is what the UI shows.

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `Request failed (HTTP ${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}

const networkProblem = {
  title: 'Network error',
  detail: 'Cannot reach the 9ten server. Check your connection and try again.',
};

// problemFrom builds a problem from an error response, also when a proxy in
// front of the node answered with something that is not problem JSON.
function problemFrom(status, statusText, data) {
  if (data && typeof data === 'object' && (data.detail || data.title)) return data;
  return { status, title: statusText || 'Error', detail: `The server answered HTTP ${status}${statusText ? ` ${statusText}` : ''}.` };
}

function parseJSON(text) {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function request(method, path, body, { keepalive = false, signal } = {}) {
  const init = {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json, application/problem+json' },
    keepalive,
    signal,
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(0, networkProblem);
  }
  const data = parseJSON(await res.text());
  if (!res.ok) throw new ApiError(res.status, problemFrom(res.status, res.statusText, data));
  return data;
}

export const api = {
  get: (path, options) => request('GET', path, undefined, options),
  post: (path, body, options) => request('POST', path, body, options),
  patch: (path, body, options) => request('PATCH', path, body, options),
  put: (path, body, options) => request('PUT', path, body, options),
  delete: (path, body, options) => request('DELETE', path, body, options),
};

// query renders parameters as a query string, leaving out empty ones.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// sendFile sends one file as multipart/form-data in the field "file".
// Extra fields go before it: the server reads the form as a stream and
// stops at the file. It uses XMLHttpRequest because fetch cannot report
// upload progress. It returns the response promise and a function that
// cancels the request.
function sendFile(method, path, file, { fields = {}, onProgress } = {}) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open(method, path);
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && onProgress) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      const data = parseJSON(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, problemFrom(xhr.status, xhr.statusText, data)));
    };
    xhr.onerror = () => reject(new ApiError(0, networkProblem));
    xhr.onabort = () => reject(new ApiError(0, { title: 'Cancelled', detail: 'Upload cancelled.' }));
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, String(v));
    form.append('file', file);
    xhr.send(form);
  });
  return { done, cancel: () => xhr.abort() };
}

// uploadFile uploads one audio file, as artistId when the user has several
// artist profiles.
export const uploadFile = (file, { artistId, onProgress }) =>
  sendFile('POST', '/api/v1/uploads', file, { fields: artistId ? { artist_id: artistId } : {}, onProgress });

// setAlbumCover replaces an album's cover with a picture (JPEG, PNG or
// WebP) and resolves to the updated album.
export const setAlbumCover = (albumId, file, { onProgress } = {}) =>
  sendFile('PUT', `/api/v1/albums/${albumId}/cover`, file, { onProgress });

// setPicture uploads a profile picture (JPEG, PNG or GIF) to path, a
// .../pictures/{avatar|header} route, and resolves to the updated profile.
export const setPicture = (path, file, { onProgress } = {}) => sendFile('PUT', path, file, { onProgress });
