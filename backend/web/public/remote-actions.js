// Remote actions: one button per command of the vehicle's catalog (capabilities `cmd:NAME`). A click
// POSTs the action, then polls its `self` link and shows each state it goes through until a final one.
import { el, formatTime } from './format.js';

export const FINAL_STATES = new Set(['SUCCEEDED', 'FAILED', 'TIMEOUT', 'REJECTED']);
const POLL_MS = 500;

export class RemoteActionsPanel {
  constructor(api, container) {
    this.api = api;
    this.container = container;
    this.generation = 0;
  }

  async load(vehicle) {
    const generation = ++this.generation;
    const commands = vehicle.capabilities.filter((c) => c.startsWith('cmd:')).map((c) => c.slice(4));
    this.log = el('ol', { class: 'actions', 'data-testid': 'actions' });
    this.container.replaceChildren(el('h3', {}, 'Remote actions'),
      commands.length === 0
        ? el('p', { class: 'muted' }, 'This vehicle announced no remote commands.')
        : el('div', { class: 'buttons' }, commands.map((name) => el('button', { type: 'button', 'data-action': name, onclick: () => this.send(vehicle, name, generation) }, name.replaceAll('_', ' ')))),
      this.log);
    const recent = await this.api.get(`${vehicle._links.remote.href}?limit=5`);
    // Newest first, below any row already there: those are actions sent while the list was on its way.
    if (generation === this.generation) for (const action of recent._embedded.actions) this.show(action, 'append');
  }

  async send(vehicle, name, generation) {
    let action;
    try {
      action = await this.api.post(vehicle._links.remote.href, { action: name });
    } catch (error) {
      this.log.prepend(el('li', { class: 'state-error' }, `${name}: ${error.message}`));
      return;
    }
    while (generation === this.generation) {
      this.show(action);
      if (FINAL_STATES.has(action.state)) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      try {
        action = await this.api.get(action._links.self.href);
      } catch (error) {
        this.log.prepend(el('li', { class: 'state-error' }, `${name}: ${error.message}`));
        return;
      }
    }
  }

  /**
   * Adds or updates the action's row: its name, state (and the states it went through), reason. A
   * new row goes on top ('prepend'), or at the bottom ('append') for an older action.
   */
  show(action, place = 'prepend') {
    let row = this.log.querySelector(`li[data-id="${CSS.escape(action.id)}"]`);
    if (!row) {
      row = el('li', { 'data-id': action.id, 'data-states': '' });
      this.log[place](row);
    }
    const states = row.dataset.states ? row.dataset.states.split(' ') : [];
    if (states.at(-1) !== action.state) states.push(action.state);
    row.dataset.states = states.join(' ');
    row.className = `action state-${action.state.toLowerCase()}`;
    row.replaceChildren(el('strong', {}, action.action), ' ', el('span', { class: 'state', 'data-testid': 'action-state' }, action.state),
      ' ', el('span', { class: 'muted' }, `${formatTime(action.created)}${states.length > 1 ? ` · ${states.join(' → ')}` : ''}${action.reason ? ` · ${action.reason}` : ''}${action.detail ? ` · ${action.detail}` : ''}`));
  }
}
