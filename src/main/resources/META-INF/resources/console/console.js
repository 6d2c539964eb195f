// The mj-relay console (CONTRACT §10): a page on the /v1 API, no build step, no other origin.
//
// Rules this file keeps:
// - the API key lives in this tab's sessionStorage and in the Authorization header, nowhere else;
// - every string that came from a client or a receiver becomes a text node (h() below), never
//   markup; links and images take http(s) URLs only;
// - the API is polled at most every 2 s, and not at all while the tab is hidden.

const KEY = 'mj-relay.api-key';
const POLL_MS = 2000;
/** The longest a view waits between refreshes while the account's request limit turns them away. */
const MAX_POLL_MS = 30000;
const PAGE = 24;
const STATUSES = ['TASK_STATUS_QUEUED', 'TASK_STATUS_PROCESSING', 'TASK_STATUS_SUCCEED', 'TASK_STATUS_FAILED'];
const ACTIONS = ['IMAGINE', 'UPSCALE', 'VARIATION', 'REROLL'];
const EVENTS = ['task.succeeded', 'task.failed', 'task.progress'];

const main = document.getElementById('main');
/** Endpoints enabled again in this tab, each with when it began to miss deliveries, until it is recovered. */
const missedSince = new Map();

// ---------------------------------------------------------------- DOM, text only

/** An element with attributes, listeners ("on..." props) and children; strings become text nodes. */
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'class') node.className = value;
    else if (value === true) node.setAttribute(name, '');
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

/** The URL if it is http(s), else null: no javascript:, data: or relative surprises in href or src. */
function webUrl(text) {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
  } catch {
    return null;
  }
}

function when(iso) {
  if (!iso) return null;
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? null : at;
}

function ago(iso) {
  const at = when(iso);
  if (!at) return '';
  const seconds = Math.max(0, Math.round((Date.now() - at.getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/** An instant as a datetime-local input's value: this browser's local time, to the second. */
function localInputValue(iso) {
  const at = when(iso);
  if (!at) return '';
  const two = (n) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())}T${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
}

function timeEl(iso, text) {
  const at = when(iso);
  return at ? h('time', { datetime: at.toISOString(), title: at.toLocaleString() }, text ?? at.toLocaleString()) : '—';
}

function statusWord(status) {
  return {
    TASK_STATUS_QUEUED: 'Queued',
    TASK_STATUS_PROCESSING: 'Running',
    TASK_STATUS_SUCCEED: 'Succeeded',
    TASK_STATUS_FAILED: 'Failed',
  }[status] ?? String(status);
}

function statusBadge(task) {
  const word = statusWord(task.status);
  const running = task.status === 'TASK_STATUS_PROCESSING' && task.progressPercent != null;
  return h('span', { class: `badge status-${String(task.status).replace('TASK_STATUS_', '').toLowerCase()}` },
    running ? `${word} ${task.progressPercent}%` : word);
}

function ended(task) {
  return task.status === 'TASK_STATUS_SUCCEED' || task.status === 'TASK_STATUS_FAILED';
}

/** What a person calls the task: its prompt, or what it was made from. */
function title(task) {
  if (task.prompt) return task.prompt;
  const index = task.index != null ? ` of image ${task.index}` : '';
  return `${task.action}${index} of task ${task.parentTaskId ?? '?'}`;
}

function notice(kind, text) {
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : null }, text);
}

let toastTimer = null;

/** A short message about what a button just did, read out by screen readers. */
function toast(text, kind = 'ok') {
  const node = document.getElementById('toast');
  node.className = `toast ${kind}`;
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 8000);
}

// ---------------------------------------------------------------- the API

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * Calls that came back with "not now": the account's request limit turned them away (429), the relay could
 * not reach its store (503), or the relay did not answer at all. The views' refreshing slows down on them,
 * so that a console left open neither takes the requests the account's own backend needs nor adds to a
 * relay's trouble. Counted, with the longest Retry-After the relay asked for since the last refresh.
 */
const refusals = { count: 0, retryAfterMs: 0 };

/** Statuses the views back off on, 0 standing for no answer; see {@link refusals}. */
const NOT_NOW = new Set([0, 429, 503]);

/**
 * A path of the relay's (`/v1/tasks`) as this page reaches it: relative to the page, which the relay
 * serves at `/console/`. Behind a proxy that serves the relay under a prefix of its own
 * (`https://tools.example.com/mj-relay/console/`), `/v1/tasks` would leave the prefix; `../v1/tasks`
 * keeps it.
 */
function fromRoot(path) {
  return `..${path}`;
}

/** One call to the relay's API with the tab's key; the error envelope's description becomes the message. */
async function api(method, path, body, key = sessionStorage.getItem(KEY), headers = {}) {
  const init = {
    method,
    headers: { ...headers, Authorization: `Bearer ${key}`, Accept: 'application/json' },
    cache: 'no-store',
    credentials: 'omit',
  };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(fromRoot(path), init);
  } catch {
    refusals.count += 1;
    throw new ApiError(0, 'The relay did not answer. Is it running, and is this the right address?');
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (response.status === 401) {
    throw new ApiError(401, 'The relay did not accept this API key (401). Check the key and sign in again.');
  }
  if (NOT_NOW.has(response.status)) {
    refusals.count += 1;
    const seconds = Number.parseInt(response.headers.get('Retry-After') ?? '', 10);
    if (seconds > 0) refusals.retryAfterMs = Math.max(refusals.retryAfterMs, seconds * 1000);
  }
  if (!response.ok) {
    const description = json && typeof json.description === 'string' ? json.description : text.slice(0, 200);
    throw new ApiError(response.status, `${description || 'The relay refused this'} (HTTP ${response.status})`);
  }
  return json;
}

/** Shows an API failure where it happened; a refused key ends the session. */
function failed(error, where) {
  if (error instanceof ApiError && error.status === 401) {
    signOut(error.message);
    return;
  }
  let message = error.message;
  if (error instanceof ApiError && NOT_NOW.has(error.status)) {
    const slower = error.status === 429
      ? 'Refreshes come less often until it lets them through; try an action again in a moment.'
      : 'Refreshes come less often until the relay answers again.';
    message += /[.?]$/.test(message) ? ` ${slower}` : `. ${slower}`;
  }
  if (where) {
    where.hidden = false;
    replace(where, message);
  } else {
    toast(message, 'error');
  }
}

// ---------------------------------------------------------------- polling and routing

let poller = null;

/**
 * Runs fn now, then 2 s after each run ends, while the view lives and the tab is visible. A run told "not
 * now" (the account's request limit, a relay without its store, no answer: {@link refusals}) doubles the
 * wait, up to 30 s and never below the relay's Retry-After, until a run goes through.
 */
function every(fn) {
  stopPolling();
  const loop = { stopped: false, timer: null, slower: 0 };
  const tick = async () => {
    if (loop.stopped) return;
    const refusedBefore = refusals.count;
    refusals.retryAfterMs = 0;
    if (!document.hidden) await fn();
    let wait = POLL_MS;
    if (refusals.count > refusedBefore) {
      loop.slower = Math.min(loop.slower + 1, 4);
      wait = Math.max(Math.min(POLL_MS * 2 ** loop.slower, MAX_POLL_MS), refusals.retryAfterMs);
    } else {
      loop.slower = 0;
    }
    if (!loop.stopped) loop.timer = setTimeout(tick, wait);
  };
  poller = loop;
  tick();
}

function stopPolling() {
  if (poller) {
    poller.stopped = true;
    clearTimeout(poller.timer);
    poller = null;
  }
}

function show(view, focus = true) {
  replace(main, view);
  if (focus) {
    const heading = main.querySelector('h1');
    if (heading) {
      heading.tabIndex = -1;
      heading.focus({ preventScroll: true });
    }
  }
}

function route() {
  stopPolling();
  const signedIn = Boolean(sessionStorage.getItem(KEY));
  document.getElementById('nav').hidden = !signedIn;
  if (!signedIn) {
    showSignIn();
    return;
  }
  const [path, query = ''] = location.hash.replace(/^#\/?/, '').split('?');
  const [section, id] = path.split('/');
  for (const link of document.querySelectorAll('#nav a')) {
    const current = link.dataset.section === (section === 'task' ? 'tasks' : section || 'tasks');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (section === 'task' && id) showTask(decodeURIComponent(id));
  else if (section === 'dead') showDead();
  else if (section === 'endpoints') showEndpoints();
  else showTasks(new URLSearchParams(query));
}

function signOut(message) {
  sessionStorage.removeItem(KEY);
  stopPolling();
  pendingSignInMessage = message ?? null;
  go('#/');
}

// ---------------------------------------------------------------- sign-in

let pendingSignInMessage = null;

function showSignIn() {
  const view = document.getElementById('sign-in-view').content.cloneNode(true);
  const form = view.querySelector('#sign-in-form');
  const input = view.querySelector('#api-key');
  const error = view.querySelector('#sign-in-error');
  const demo = view.querySelector('#demo-sign-in');
  if (pendingSignInMessage) {
    error.hidden = false;
    error.textContent = pendingSignInMessage;
    pendingSignInMessage = null;
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      error.hidden = false;
      error.textContent = 'Enter an API key.';
      input.focus();
      return;
    }
    await signIn(key, error, input);
  });
  show(view, false);
  input.focus();
  fetch(fromRoot('/console/demo'), { cache: 'no-store', credentials: 'omit' })
    .then((response) => (response.ok ? response.json() : null))
    .then((answer) => {
      const accounts = answer && Array.isArray(answer.accounts) ? answer.accounts : [];
      if (accounts.length === 0) return;
      demo.hidden = false;
      replace(demo.querySelector('.demo-accounts'), accounts.map((account) => h('li', {},
        h('button', { type: 'button', onclick: () => signIn(account.apiKey, error) },
          `Open the demo account “${account.name}”`))));
    })
    .catch(() => { /* no demo: the key field alone */ });
}

async function signIn(key, error, input) {
  try {
    await api('GET', '/v1/queue', undefined, key);
  } catch (e) {
    if (e.status === 429) {
      // the key was accepted, and the account is at its request limit: the view says so, and waits
      sessionStorage.setItem(KEY, key);
      go('#/tasks');
      return;
    }
    error.hidden = false;
    error.textContent = e.status === 401
      ? 'That API key was not accepted. Check it (no spaces, the whole key) and try again.'
      : e.message;
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
    return;
  }
  sessionStorage.setItem(KEY, key);
  go('#/tasks');
}

/** Shows the view of this hash, whether or not the hash changes. */
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

// ---------------------------------------------------------------- tasks

function showTasks(params) {
  const status = STATUSES.includes(params.get('status')) ? params.get('status') : '';
  const action = ACTIONS.includes(params.get('action')) ? params.get('action') : '';
  const state = params.get('state') ?? '';
  const queue = h('p', { class: 'queue', id: 'queue' }, 'Queue: …');
  const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const grid = h('ul', { class: 'task-grid', id: 'task-grid' });
  const empty = h('div', { class: 'empty', hidden: true },
    h('p', {}, 'No tasks here yet. Submit one with the API and it appears within 2 seconds:'),
    h('pre', {}, `curl -s ${location.origin}/mj/submit/imagine -H 'Authorization: Bearer <key>' \\\n`
      + `  -H 'Content-Type: application/json' -d '{"prompt": "a red ceramic mug"}'`));
  const more = h('button', { type: 'button', class: 'quiet', hidden: true }, 'Load older tasks');

  const filterChanged = () => {
    const next = new URLSearchParams();
    if (statusSelect.value) next.set('status', statusSelect.value);
    if (actionSelect.value) next.set('action', actionSelect.value);
    if (stateInput.value) next.set('state', stateInput.value);
    location.hash = `#/tasks${next.toString() ? `?${next}` : ''}`;
  };
  const statusSelect = h('select', { id: 'filter-status', onchange: filterChanged },
    h('option', { value: '' }, 'Any status'),
    STATUSES.map((s) => h('option', { value: s, selected: s === status }, statusWord(s))));
  const actionSelect = h('select', { id: 'filter-action', onchange: filterChanged },
    h('option', { value: '' }, 'Any action'),
    ACTIONS.map((a) => h('option', { value: a, selected: a === action }, a)));
  // the submit's state, exactly: a support person's way from an order to its task
  const stateInput = h('input', { id: 'filter-state', type: 'search', value: state, autocomplete: 'off',
    placeholder: 'e.g. order-42', onchange: filterChanged });

  // a task id from a webhook, a log line or the client's records: its page at once, whatever its age
  const taskIdInput = h('input', { id: 'open-task-id', type: 'search', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'from a webhook or a log line' });
  const openTask = (e) => {
    e.preventDefault();
    // as copied from a log line or a JSON body: blanks, quotes and a trailing comma are not the id's
    const id = taskIdInput.value.replace(/^[\s"']+|[\s"',]+$/g, '');
    if (id) go(`#/task/${encodeURIComponent(id)}`);
    else taskIdInput.focus();
  };

  show(h('section', { 'aria-labelledby': 'tasks-title' },
    h('div', { class: 'heading-row' }, h('h1', { id: 'tasks-title' }, 'Tasks'), queue),
    h('form', { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); filterChanged(); } },
      h('div', { class: 'field' }, h('label', { for: 'filter-status' }, 'Status'), statusSelect),
      h('div', { class: 'field' }, h('label', { for: 'filter-action' }, 'Action'), actionSelect),
      h('div', { class: 'field' }, h('label', { for: 'filter-state' }, 'State'), stateInput)),
    h('form', { class: 'open-task', role: 'search', 'aria-label': 'Open a task by its id', onsubmit: openTask },
      h('label', { for: 'open-task-id' }, 'Task id'), taskIdInput, h('button', { type: 'submit' }, 'Open')),
    error, empty, grid, more));

  const filter = new URLSearchParams();
  if (status) filter.set('status', status);
  if (action) filter.set('action', action);
  if (state) filter.set('state', state);
  const cards = new Map(); // task id -> {node, signature}
  let first = []; // ids of the newest page, as of the last poll
  let older = []; // ids loaded with "Load older"
  let olderCursor = null;
  let olderLoaded = false;

  const render = (tasks) => {
    for (const task of tasks) {
      const signature = JSON.stringify(task);
      const known = cards.get(task.taskId);
      if (!known) cards.set(task.taskId, { node: taskCard(task), signature, task });
      else if (known.signature !== signature) {
        const node = taskCard(task);
        known.node.replaceWith(node);
        Object.assign(known, { node, signature, task });
      }
    }
    const seen = new Set(first);
    const order = first.concat(older.filter((id) => !seen.has(id)));
    order.forEach((id, i) => {
      const { node, task } = cards.get(id);
      node.querySelector('.age').textContent = ago(task.submittedAt);
      if (grid.children[i] !== node) grid.insertBefore(node, grid.children[i] ?? null);
    });
    while (grid.children.length > order.length) grid.lastElementChild.remove();
    empty.hidden = order.length > 0;
  };

  more.addEventListener('click', async () => {
    const query = new URLSearchParams(filter);
    query.set('limit', PAGE);
    query.set('cursor', olderCursor);
    try {
      const page = await api('GET', `/v1/tasks?${query}`);
      older = older.concat(page.items.map((t) => t.taskId));
      olderCursor = page.nextCursor;
      olderLoaded = true;
      more.hidden = !olderCursor;
      render(page.items);
    } catch (e) {
      failed(e, error);
    }
  });

  every(async () => {
    const query = new URLSearchParams(filter);
    query.set('limit', PAGE);
    try {
      const [page, waiting] = await Promise.all([api('GET', `/v1/tasks?${query}`), api('GET', '/v1/queue')]);
      error.hidden = true;
      first = page.items.map((t) => t.taskId);
      if (!olderLoaded) {
        olderCursor = page.nextCursor;
        more.hidden = !olderCursor;
      }
      render(page.items);
      replace(queue, queueLine(waiting));
    } catch (e) {
      failed(e, error);
    }
  });
}

function queueLine(waiting) {
  if (!waiting || !waiting.queued) return 'Queue: no job waits for upstream room.';
  const jobs = waiting.queued === 1 ? '1 job waits' : `${waiting.queued} jobs wait`;
  const oldest = waiting.oldestQueuedAt ? `; the oldest was queued ${ago(waiting.oldestQueuedAt)}` : '';
  return `Queue: ${jobs} for upstream room${oldest}.`;
}

function thumbnails(task, className) {
  const urls = (Array.isArray(task.imageUrls) ? task.imageUrls : []).map(webUrl).filter(Boolean);
  if (urls.length === 0) {
    return h('div', { class: `${className} placeholder` }, h('span', {}, ended(task) ? 'No images' : statusWord(task.status)));
  }
  return h('div', { class: `${className} count-${Math.min(urls.length, 4)}` },
    urls.slice(0, 4).map((url, i) => image(url, `Image ${i + 1} of ${urls.length}`, { loading: 'lazy', decoding: 'async' })));
}

/**
 * An image of a task; one that does not load — an upstream's link that has expired (images not
 * mirrored), a copy gone from the media store — says so in its place rather than show a broken icon.
 */
function image(url, alt, props = {}) {
  return h('img', {
    src: url, alt, referrerpolicy: 'no-referrer', ...props,
    onerror: (event) => {
      // a link around it would lead nowhere either
      const broken = event.target.parentElement?.tagName === 'A' ? event.target.parentElement : event.target;
      broken.replaceWith(h('span', { class: 'gone', role: 'img', 'aria-label': `${alt}: not available` }, 'Image not available'));
    },
  });
}

function taskCard(task) {
  const link = `#/task/${encodeURIComponent(task.taskId)}`;
  return h('li', { class: 'task-card', 'data-task-id': task.taskId },
    h('a', { href: link, class: 'thumb-link', tabindex: '-1', 'aria-hidden': 'true' }, thumbnails(task, 'thumbs')),
    h('div', { class: 'card-body' },
      h('p', { class: 'card-line' }, statusBadge(task), ' ', h('span', { class: 'action' }, task.action), ' ',
        h('span', { class: 'age' }, ago(task.submittedAt))),
      h('h2', { class: 'card-title' }, h('a', { href: link }, title(task))),
      task.failReason ? h('p', { class: 'fail-reason' }, task.failReason) : null));
}

// ---------------------------------------------------------------- one task

/**
 * Makes a click on {@code button} run {@code call} once: the button is disabled while the call is
 * under way, and the second click of a double click is no second call, however soon the first ended
 * (a redelivery or a cancel is sent once). {@code onError} gets what the call threw.
 */
function onAction(button, call, onError) {
  button.addEventListener('click', async (event) => {
    if (event.detail > 1) {
      return;
    }
    button.disabled = true;
    try {
      await call();
    } catch (e) {
      onError(e);
    } finally {
      button.disabled = false;
    }
  });
}

function showTask(id) {
  const path = `/v1/tasks/${encodeURIComponent(id)}`;
  const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const redeliver = h('button', { type: 'button', hidden: true }, 'Redeliver');
  const cancel = h('button', { type: 'button', class: 'danger', hidden: true }, 'Cancel');
  const images = h('div', { class: 'task-images' });
  const fields = h('dl', { class: 'fields' });
  const events = h('ol', { class: 'events' });
  const timeline = h('ol', { class: 'timeline', id: 'deliveries' });
  let last = { task: null, deliveries: null };

  const once = (button, call) => onAction(button, call, failed);
  once(redeliver, async () => {
    const answer = await api('POST', `${path}/redeliver`);
    toast(`Sent again to ${answer.targets} target${answer.targets === 1 ? '' : 's'}; the attempt shows below.`);
  });
  once(cancel, async () => {
    await api('DELETE', path);
    toast('Cancelled: the task fails with "cancelled" and its webhook is sent.');
  });

  const body = h('div', {}, h('div', { class: 'task-layout' }, images, fields),
    h('h2', {}, 'Events'), events,
    h('h2', {}, 'Delivery attempts'), timeline);
  show(h('section', { 'aria-labelledby': 'task-title' },
    h('p', { class: 'back' }, h('a', { href: '#/tasks' }, '← All tasks')),
    h('div', { class: 'heading-row' },
      h('h1', { id: 'task-title' }, 'Task ', h('code', {}, id)),
      h('div', { class: 'actions' }, redeliver, cancel)),
    error, body));

  every(async () => {
    try {
      const [task, deliveries] = await Promise.all([api('GET', path), api('GET', `${path}/deliveries?limit=100`)]);
      error.hidden = true;
      const taskJson = JSON.stringify(task);
      if (taskJson !== last.task) {
        last.task = taskJson;
        renderTask(task, images, fields, events);
        redeliver.hidden = !ended(task);
        cancel.hidden = ended(task);
      }
      // what an empty list means changes when the task ends
      const deliveriesJson = JSON.stringify([ended(task), deliveries.items]);
      if (deliveriesJson !== last.deliveries) {
        last.deliveries = deliveriesJson;
        renderAttempts(deliveries.items, timeline, false, ended(task));
      }
    } catch (e) {
      if (e instanceof ApiError && e.status === 404 && last.task === null) {
        // a mistyped id, another account's task, or one past its retention: it will not appear, so no more asking
        stopPolling();
        body.hidden = true;
        error.hidden = false;
        replace(error, `No task ${id} in this account. Check the id: an account sees only its own tasks, and an ended`
          + ' task is kept for the relay\'s retention time (7 days unless set otherwise).');
        return;
      }
      failed(e, error);
    }
  });
}

function renderTask(task, images, fields, events) {
  const urls = (Array.isArray(task.imageUrls) ? task.imageUrls : []).map(webUrl).filter(Boolean);
  replace(images, urls.length === 0
    ? thumbnails(task, 'large-thumbs')
    : h('ul', { class: 'large-thumbs' }, urls.map((url, i) => h('li', {},
      h('a', { href: url, target: '_blank', rel: 'noopener noreferrer' }, image(url, `Image ${i + 1} of ${urls.length}`))))));
  const rows = [
    ['Status', statusBadge(task)],
    ['Action', task.action],
    ['Progress', task.progressPercent != null ? `${task.progressPercent}%` : null],
    ['Prompt', longText(task.prompt, `${task.taskId} prompt`)],
    ['Made from', task.parentTaskId
      ? h('a', { href: `#/task/${encodeURIComponent(task.parentTaskId)}` }, task.parentTaskId) : null],
    ['Image index', task.index],
    ['State', longText(task.state, `${task.taskId} state`)],
    ['Fail reason', longText(task.failReason, `${task.taskId} failReason`)],
    ['Images', task.mediaMirrored === true ? 'copies in the relay\'s media store (each keeps its upstream URL as sourceUrl)'
      : task.mediaMirrored === false ? 'the upstream\'s links: mirroring gave up' : null],
    ['Submitted', timeEl(task.submittedAt)],
    ['Finished', task.finishedAt ? timeEl(task.finishedAt) : null],
  ];
  replace(fields, rows.filter(([, value]) => value !== null && value !== undefined && value !== '')
    .map(([name, value]) => [h('dt', {}, name), h('dd', {}, value)]));
  const list = Array.isArray(task.events) ? task.events : [];
  replace(events, list.length === 0 ? h('li', { class: 'muted' }, 'None yet.')
    : list.map((event) => h('li', {}, h('span', { class: 'event-type' }, event.type), ' ', timeEl(event.at),
      event.webhookId ? [' ', h('code', { class: 'muted' }, event.webhookId)] : null)));
}

// A prompt, a state, a fail reason or a URL may run to thousands of characters: the start of one is shown,
// and the whole on request, so that a task's events and attempts, or the next item of a list, stay within
// reach. What was opened stays open while the page refreshes.
const LONG_TEXT = 400;
const SHOWN_START = 300;
const shownWhole = new Set();
function longText(text, key) {
  if (typeof text !== 'string') return text;
  const characters = [...text];
  if (characters.length <= LONG_TEXT) return text;
  const start = `${characters.slice(0, SHOWN_START).join('')}…`;
  const all = `Show all ${characters.length.toLocaleString('en')} characters`;
  const shown = h('span', { class: 'long-text' });
  const toggle = h('button', { type: 'button', class: 'quiet inline' });
  const draw = () => {
    const whole = shownWhole.has(key);
    replace(shown, whole ? text : start);
    replace(toggle, whole ? 'Show less' : all);
    toggle.setAttribute('aria-expanded', String(whole));
  };
  toggle.addEventListener('click', () => {
    if (!shownWhole.delete(key)) shownWhole.add(key);
    draw();
  });
  draw();
  return h('span', {}, shown, ' ', toggle);
}

// A task's attempts come oldest first; an endpoint's newest first, each naming its task (byEndpoint).
function renderAttempts(items, timeline, byEndpoint = false, taskEnded = false) {
  if (!items || items.length === 0) {
    let text = 'No delivery attempts yet: they start when the task ends.';
    if (byEndpoint) text = 'No attempts to it yet.';
    else if (taskEnded) {
      text = 'No delivery attempts: the first is on its way, or the task had no target (no callbackUrl, and no'
        + ' registered endpoint subscribed to its event).';
    }
    replace(timeline, h('li', { class: 'muted' }, text));
    return;
  }
  // a redelivery starts the attempts of the event to its target over from 1 (an older relay made it a
  // new delivery, with an id of its own): from there on, the event's attempts there are the redelivery's
  const again = new Set();
  const last = new Map();
  for (const entry of byEndpoint ? [...items].reverse() : items) {
    const event = `${entry.webhookId} ${entry.target}`;
    const before = last.get(event);
    const redelivered = before !== undefined
      && (before.again || entry.attempt <= before.attempt || entry.deliveryId !== before.deliveryId);
    if (redelivered) again.add(entry);
    last.set(event, { attempt: entry.attempt, deliveryId: entry.deliveryId, again: redelivered });
  }
  replace(timeline, items.map((entry) => {
    const status = entry.statusCode != null ? `HTTP ${entry.statusCode}` : 'no answer';
    return h('li', { class: `attempt outcome-${entry.outcome}`, 'data-outcome': entry.outcome },
      h('p', { class: 'attempt-line' },
        h('span', { class: `badge outcome-${entry.outcome}` }, entry.outcome), ' ',
        h('strong', {}, again.has(entry) ? `Redelivery, attempt ${entry.attempt}` : `Attempt ${entry.attempt}`), ' · ',
        status, ' · ', `${entry.durationMs} ms`, ' · ', timeEl(entry.at)),
      byEndpoint ? h('p', {}, entry.type, ' of task ',
        h('a', { href: `#/task/${encodeURIComponent(entry.taskId)}` }, entry.taskId))
        : h('p', { class: 'attempt-target' }, entry.type, ' to ', h('span', { class: 'url' }, longText(entry.target, `target ${entry.target}`))),
      entry.error ? h('p', { class: 'attempt-error' }, entry.error) : null,
      entry.responseBody ? h('details', { open: true }, h('summary', {}, 'Start of the answer'),
        h('pre', { class: 'answer' }, entry.responseBody)) : null);
  }));
}

// ---------------------------------------------------------------- dead deliveries

function showDead() {
  const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const list = h('ul', { class: 'dead-list', id: 'dead-list' });
  const more = h('button', { type: 'button', class: 'quiet', hidden: true }, 'Load older');
  const refresh = h('button', { type: 'button', class: 'quiet' }, 'Refresh');
  let cursor = null;

  const load = async (reset) => {
    const query = new URLSearchParams({ limit: PAGE });
    if (!reset && cursor) query.set('cursor', cursor);
    try {
      const page = await api('GET', `/v1/deliveries/dead?${query}`);
      error.hidden = true;
      if (reset) list.replaceChildren();
      append(list, page.items.map(dead => deadItem(dead, redeliverAll)));
      if (list.children.length === 0) append(list, h('li', { class: 'muted' }, 'No dead deliveries. Every webhook got through.'));
      cursor = page.nextCursor;
      more.hidden = !cursor;
    } catch (e) {
      failed(e, error);
    }
  };
  more.addEventListener('click', () => load(false));
  refresh.addEventListener('click', () => load(true));

  // after a receiver's outage: every dead delivery (or every one to that receiver's URL) sent again in one
  // call, each once
  const allResult = h('p', { class: 'redelivered', id: 'redeliver-all-result', role: 'status' });
  const redeliverAll = (button, target) => onAction(button, async () => {
    const answer = await api('POST', '/v1/deliveries/dead/redeliver', target ? { target } : {});
    const count = `${answer.redelivered} dead deliver${answer.redelivered === 1 ? 'y' : 'ies'}`;
    replace(allResult, `Sent ${count}`, target ? h('span', {}, ' to ', h('span', { class: 'url' }, longText(target, `target ${target}`))) : null,
      ' again at ', new Date().toLocaleTimeString(), '; each gets one more attempt, and is listed again if it fails.');
    await load(true);
  }, (e) => {
    replace(allResult, e.message);
    if (e.status === 401) failed(e);
  });
  const all = h('button', { type: 'button', id: 'redeliver-all' }, 'Redeliver all');
  redeliverAll(all, null);

  show(h('section', { 'aria-labelledby': 'dead-title' },
    h('div', { class: 'heading-row' }, h('h1', { id: 'dead-title' }, 'Dead deliveries'),
      h('div', { class: 'actions' }, all, refresh)),
    h('p', {}, 'Webhooks whose every attempt failed. Redeliver sends the same event (same webhook-id) again; '
      + 'Redeliver all sends every one listed, once, when a receiver is back; All to this URL, only those to that '
      + 'URL.'),
    allResult, error, list, more));
  load(true);
}

/** A dead delivery's card; {@code redeliverAll(button, target)} makes the button send every dead one to its URL. */
function deadItem(dead, redeliverAll) {
  const result = h('p', { class: 'redelivered', role: 'status' });
  const button = h('button', { type: 'button' }, 'Redeliver');
  onAction(button, async () => {
    const answer = await api('POST', `/v1/tasks/${encodeURIComponent(dead.taskId)}/redeliver`);
    replace(result, `Sent again to ${answer.targets} target${answer.targets === 1 ? '' : 's'} at `,
      new Date().toLocaleTimeString(), '. ',
      h('a', { href: `#/task/${encodeURIComponent(dead.taskId)}` }, 'See the attempt'));
  }, (e) => {
    replace(result, e.message);
    if (e.status === 401) failed(e);
  });
  const allToTarget = h('button', { type: 'button', class: 'quiet', title: `every dead delivery to ${dead.target}` },
    'All to this URL');
  redeliverAll(allToTarget, dead.target);
  const last = dead.lastStatusCode != null ? `HTTP ${dead.lastStatusCode}` : 'no answer';
  return h('li', { class: 'dead-item', 'data-task-id': dead.taskId },
    h('p', { class: 'card-line' }, h('span', { class: 'badge outcome-dead' }, 'dead'), ' ', dead.type, ' · ',
      `${dead.attempts} attempts`, ' · last: ', last, ' · died ', timeEl(dead.diedAt, ago(dead.diedAt))),
    h('p', {}, 'Task ', h('a', { href: `#/task/${encodeURIComponent(dead.taskId)}` }, dead.taskId)),
    h('p', { class: 'attempt-target' }, 'to ', h('span', { class: 'url' }, longText(dead.target, `target ${dead.target}`))),
    dead.lastError ? h('p', { class: 'attempt-error' }, dead.lastError) : null,
    h('div', { class: 'actions' }, button, allToTarget), result);
}

// ---------------------------------------------------------------- endpoints

function showEndpoints() {
  const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const formError = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const secretBox = h('div', { class: 'secret-box', id: 'secret-box', hidden: true, tabindex: '-1' });
  const list = h('ul', { class: 'endpoint-list', id: 'endpoint-list' });

  const fields = endpointFields('endpoint', { events: EVENTS.filter((e) => e !== 'task.progress') },
    'Rate limit (attempts per second, optional)');

  const showSecret = (heading, secret, extra) => {
    secretBox.hidden = false;
    const value = h('code', { class: 'secret', id: 'secret-value' }, secret);
    const copy = h('button', { type: 'button', class: 'quiet' }, 'Copy');
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(secret);
        toast('Copied.');
      } catch {
        const range = document.createRange();
        range.selectNodeContents(value);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        toast('Selected: copy it with your keyboard.');
      }
    });
    const done = h('button', { type: 'button' }, 'I have stored it');
    done.addEventListener('click', () => { secretBox.hidden = true; secretBox.replaceChildren(); });
    replace(secretBox, h('h2', {}, heading),
      h('p', {}, 'This signing secret is shown once. Store it with the receiver now; the relay lists it masked from here on.'),
      h('p', { class: 'secret-line' }, value, ' ', copy), extra ?? null, done);
    secretBox.focus();
  };

  const load = async () => {
    try {
      const page = await api('GET', '/v1/webhooks?limit=100');
      error.hidden = true;
      replace(list, page.items.length === 0
        ? h('li', { class: 'muted' }, 'No endpoints yet. Tasks still send to their own callbackUrl.')
        : page.items.map((endpoint) => endpointItem(endpoint, load, showSecret)));
    } catch (e) {
      failed(e, error);
    }
  };

  // the Idempotency-Key of a registration not answered yet, and the form it was for
  let unanswered = null;
  const registerButton = h('button', { type: 'submit' }, 'Register');
  const register = async (event) => {
    event.preventDefault();
    formError.hidden = true;
    const body = fields.read(formError);
    if (!body) return;
    if (body.rateLimit === null) delete body.rateLimit;
    // a double click, or Register again after the relay did not answer, must not make two endpoints:
    // the same form sends the same Idempotency-Key until it is answered
    const text = JSON.stringify(body);
    if (!unanswered || unanswered.text !== text) unanswered = { text, key: idempotencyKey() };
    registerButton.disabled = true;
    try {
      const created = await api('POST', '/v1/webhooks', body, undefined, { 'Idempotency-Key': unanswered.key });
      unanswered = null;
      fields.clear();
      await load();
      showSecret(`Registered ${created.url}`, created.secret);
    } catch (e) {
      if (e.status >= 400 && e.status < 500) unanswered = null;
      failed(e, formError);
    } finally {
      registerButton.disabled = false;
    }
  };

  show(h('section', { 'aria-labelledby': 'endpoints-title' },
    h('h1', { id: 'endpoints-title' }, 'Endpoints'),
    h('p', {}, 'Registered endpoints get the events of all of the account\'s tasks, signed with their own secret.'),
    secretBox,
    h('div', { class: 'endpoints-layout' },
    h('form', { class: 'register', id: 'register-form', onsubmit: register, novalidate: true },
      h('h2', {}, 'Register an endpoint'),
      fields.nodes,
      registerButton,
      formError),
    h('section', { 'aria-labelledby': 'registered-title' },
      h('h2', { id: 'registered-title' }, 'Registered'),
      error, list))));
  load();
}

function endpointItem(endpoint, reload, showSecret) {
  const base = `/v1/webhooks/${encodeURIComponent(endpoint.id)}`;
  const result = h('p', { class: 'endpoint-result', role: 'status' });
  const act = (label, fn, props = {}) => {
    const button = h('button', { type: 'button', ...props }, label);
    onAction(button, fn, (e) => {
      replace(result, e.message);
      if (e.status === 401) failed(e);
    });
    return button;
  };

  const test = act('Send test event', async () => {
    const answer = await api('POST', `${base}/test`);
    replace(result, answer.statusCode != null
      ? `Test event answered HTTP ${answer.statusCode} in ${answer.durationMs} ms.`
      : `Test event got no answer after ${answer.durationMs} ms: ${answer.error ?? 'unknown error'}.`);
  });
  const rotate = act('Rotate secret', async () => {
    const answer = await api('POST', `${base}/rotate-secret`);
    const until = when(answer.previousSecretExpiresAt);
    showSecret(`New secret for ${endpoint.url}`, answer.secret,
      h('p', {}, 'Webhooks carry both signatures until ', until ? until.toLocaleString() : '—',
        ', so the receiver can switch over without missing one.'));
  });
  // what a disabled endpoint missed began when its attempts started failing, or when it was disabled on request
  const missedFrom = endpoint.disabled ? (endpoint.failingSince ?? endpoint.disabledAt) : missedSince.get(endpoint.id);
  const enable = endpoint.disabled ? act('Enable', async () => {
    await api('POST', `${base}/enable`);
    if (missedFrom) missedSince.set(endpoint.id, missedFrom);
    toast('Enabled: new deliveries go out again.');
    await reload();
  }) : null;
  const disableRow = h('div', { class: 'confirm', hidden: true },
    h('span', {}, 'Disable this endpoint? Its deliveries are skipped until you enable it; Recover then sends what it missed.'), ' ',
    act('Disable now', async () => {
      await api('POST', `${base}/disable`);
      toast(`Disabled ${endpoint.url}.`);
      await reload();
    }, { class: 'danger' }), ' ',
    h('button', { type: 'button', class: 'quiet', onclick: () => { disableRow.hidden = true; } }, 'Keep it on'));
  const disable = endpoint.disabled ? null
    : h('button', { type: 'button', class: 'quiet', onclick: () => { disableRow.hidden = false; } }, 'Disable');

  const sinceId = `recover-${endpoint.id}`;
  // once it is enabled again, the time to recover from is filled in
  const since = h('input', { type: 'datetime-local', id: sinceId, step: '1',
    value: endpoint.disabled ? null : localInputValue(missedFrom) });
  const recover = act('Recover', async () => {
    const at = since.value ? new Date(since.value) : null;
    if (!at || Number.isNaN(at.getTime())) {
      replace(result, 'Choose the time to recover from.');
      since.focus();
      return;
    }
    const answer = await api('POST', `${base}/recover`, { since: at.toISOString() });
    missedSince.delete(endpoint.id);
    missedHint.hidden = true;
    replace(result, `Sending ${answer.recovered} event${answer.recovered === 1 ? '' : 's'} again.`);
  });
  const missedHint = h('p', { class: 'muted missed', hidden: endpoint.disabled || !missedFrom },
    'Enabled again. What it missed since ', timeEl(missedFrom), ' was skipped: Recover sends it now.');

  const editForm = endpointEditor(endpoint, base, reload);
  const edit = h('button', { type: 'button', 'aria-expanded': 'false', 'aria-controls': editForm.id }, 'Edit');
  edit.addEventListener('click', () => {
    editForm.hidden = !editForm.hidden;
    edit.setAttribute('aria-expanded', String(!editForm.hidden));
    if (!editForm.hidden) editForm.querySelector('input').focus();
  });

  const attempts = h('ol', { class: 'timeline endpoint-attempts', hidden: true });
  const showAttempts = act('Latest attempts', async () => {
    const page = await api('GET', `${base}/attempts?limit=20`);
    renderAttempts(page.items, attempts, true);
    attempts.hidden = false;
  });

  const confirmRow = h('div', { class: 'confirm', hidden: true },
    h('span', {}, 'Remove this endpoint? It gets nothing from then on.'), ' ',
    act('Remove for good', async () => {
      await api('DELETE', base);
      toast(`Removed ${endpoint.url}.`);
      await reload();
    }, { class: 'danger' }), ' ',
    h('button', { type: 'button', class: 'quiet', onclick: () => { confirmRow.hidden = true; } }, 'Keep it'));
  const remove = h('button', { type: 'button', class: 'danger quiet', onclick: () => { confirmRow.hidden = false; } }, 'Remove');

  const state = endpoint.disabled
    ? h('span', { class: 'badge outcome-dead' }, 'disabled')
    : endpoint.failingSince
      ? h('span', { class: 'badge outcome-failed' }, 'failing')
      : h('span', { class: 'badge outcome-delivered' }, 'enabled');
  return h('li', { class: 'endpoint', 'data-endpoint-id': endpoint.id },
    h('h3', { class: 'url' }, longText(endpoint.url, `target ${endpoint.url}`)),
    h('p', { class: 'card-line' }, state, ' ', (endpoint.events ?? []).join(', '), ' · ', endpoint.format ?? 'standard-webhooks',
      endpoint.rateLimit != null ? ` · at most ${endpoint.rateLimit}/s` : '',
      endpoint.headers ? ` · headers ${Object.keys(endpoint.headers).join(', ')}` : '', ' · id ', h('code', {}, endpoint.id)),
    endpoint.disabled ? h('p', { class: 'attempt-error' }, 'Disabled ', timeEl(endpoint.disabledAt),
      endpoint.disabledReason ? [': ', endpoint.disabledReason] : null)
      : endpoint.failingSince ? h('p', { class: 'attempt-error' }, 'Every attempt has failed since ',
        timeEl(endpoint.failingSince), '; it is disabled if that goes on for relay.webhook.disable-after.') : null,
    h('div', { class: 'actions' }, test, showAttempts, edit, rotate, enable, disable, remove),
    editForm,
    missedHint,
    h('div', { class: 'recover-row' }, h('label', { for: sinceId }, 'Re-send what it missed since'), since, recover),
    disableRow, confirmRow, result, attempts);
}

/**
 * The form that changes an endpoint in place (PATCH): its id, secret and health stay. Only what was
 * changed is sent, so a change made meanwhile elsewhere to another field is kept; an emptied rate
 * limit removes the limit. Headers are changed through the API: their values are shown masked.
 */
function endpointEditor(endpoint, base, reload) {
  const id = `edit-${endpoint.id}`;
  const error = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const fields = endpointFields(id, endpoint, 'Rate limit (attempts per second; empty for none)');
  const save = h('button', { type: 'submit' }, 'Save changes');
  const cancel = h('button', { type: 'button', class: 'quiet' }, 'Cancel');

  const form = h('form', { class: 'edit-endpoint', id, hidden: true, novalidate: true },
    fields.nodes,
    h('p', { class: 'muted' }, 'Deliveries not made yet, retries included, go to the new URL; the secret stays.'),
    h('div', { class: 'actions' }, save, cancel),
    error);

  cancel.addEventListener('click', () => {
    form.hidden = true;
    form.reset();
    error.hidden = true;
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const values = fields.read(error);
    if (!values) return;
    const was = { url: endpoint.url, events: EVENTS.filter((e) => (endpoint.events ?? []).includes(e)),
      format: endpoint.format ?? 'standard-webhooks', rateLimit: endpoint.rateLimit ?? null };
    const changes = Object.fromEntries(Object.entries(values)
      .filter(([name, value]) => JSON.stringify(value) !== JSON.stringify(was[name])));
    if (Object.keys(changes).length === 0) {
      failed(new Error('Nothing was changed.'), error);
      return;
    }
    save.disabled = true;
    try {
      await api('PATCH', base, changes);
      toast('Saved: deliveries not made yet follow the change.');
      await reload();
    } catch (e) {
      failed(e, error);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

/**
 * An endpoint form's fields — URL, events, format, rate limit — their ids starting with {@code prefix},
 * filled from {@code given} (an endpoint, or what a new one starts with). {@code read(error)} answers
 * {url, events, format, rateLimit} (rateLimit null when empty), or null after showing in {@code error}
 * what is wrong; {@code clear()} empties the URL and the rate limit.
 */
function endpointFields(prefix, given, rateLabel) {
  const format = given.format ?? 'standard-webhooks';
  const url = h('input', { id: `${prefix}-url`, name: 'url', type: 'url', required: true, value: given.url,
    placeholder: given.url ? null : 'https://example.com/webhooks/mj', autocomplete: 'off' });
  const boxes = EVENTS.map((event) => h('input', {
    type: 'checkbox', id: `${prefix}-${event}`, value: event, checked: (given.events ?? []).includes(event),
  }));
  const formats = h('select', { id: `${prefix}-format`, name: 'format' },
    h('option', { value: 'standard-webhooks', selected: format === 'standard-webhooks' }, 'Standard Webhooks (JSON body)'),
    h('option', { value: 'cloudevents', selected: format === 'cloudevents' }, 'CloudEvents 1.0, binary mode'));
  const rate = h('input', { id: `${prefix}-rate`, name: 'rateLimit', type: 'number', min: '0.001', step: 'any',
    inputmode: 'decimal', value: given.rateLimit != null ? String(given.rateLimit) : null });
  const nodes = [
    h('div', { class: 'field' }, h('label', { for: url.id }, 'URL'), url),
    h('fieldset', {}, h('legend', {}, 'Events'),
      boxes.map((box) => h('div', { class: 'check' }, box, h('label', { for: box.id }, box.value)))),
    h('div', { class: 'field' }, h('label', { for: formats.id }, 'Format'), formats),
    h('div', { class: 'field' }, h('label', { for: rate.id }, rateLabel), rate)];
  const read = (error) => {
    if (!webUrl(url.value.trim())) {
      failed(new Error('Enter the endpoint as an http:// or https:// URL.'), error);
      url.setAttribute('aria-invalid', 'true');
      url.focus();
      return null;
    }
    url.removeAttribute('aria-invalid');
    if (rate.validity.badInput) {
      // a number input that does not hold a number reads as empty: that is not "no limit"
      failed(new Error('Enter the rate limit as a number of attempts per second, or leave it empty.'), error);
      rate.focus();
      return null;
    }
    return { url: url.value.trim(), events: boxes.filter((b) => b.checked).map((b) => b.value), format: formats.value,
      rateLimit: rate.value.trim() === '' ? null : Number(rate.value) };
  };
  const clear = () => {
    url.value = '';
    rate.value = '';
  };
  return { nodes, read, clear };
}

/** 32 random hex digits: crypto.getRandomValues works on plain http too, where randomUUID does not. */
function idempotencyKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

// ---------------------------------------------------------------- start

document.getElementById('sign-out').addEventListener('click', () => signOut());
window.addEventListener('hashchange', route);
route();
