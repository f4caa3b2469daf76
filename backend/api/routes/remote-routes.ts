/** /vehicles/{vin}/remote: send a remote action (signed command), follow its state. */
import type { FastifyInstance } from 'fastify';
import { accessOf, sendHal, vinParam, type ApiContext } from '../api-context.js';
import { halPage, vehiclePath } from '../hal.js';
import { ApiProblem } from '../problem.js';
import { bodyObject, stringField, type JsonObject } from '../request-body.js';
import { remoteActionResource } from '../representations.js';
import { PublishError } from '../../remote/vehicle-publisher.js';
import { listQuery } from './vehicle-routes.js';

const ACTION = /^[a-z][a-z0-9_]{0,63}$/;

function actionArgs(body: JsonObject): Record<string, string> {
  const args = body.args;
  if (args === undefined) return {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) throw ApiProblem.invalid('/args', 'body', 'must be an object of NAME: value');
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(args)) {
    if (!/^[a-z][a-z0-9_]{0,63}$/.test(name)) throw ApiProblem.invalid(`/args/${name}`, 'body', 'argument names are lower-case letters, digits and _');
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw ApiProblem.invalid(`/args/${name}`, 'body', 'must be a string, number or boolean');
    out[name] = String(value);
  }
  return out;
}

export function remoteRoutes(app: FastifyInstance, context: ApiContext): void {
  const { store } = context;

  app.post('/vehicles/:vin/remote', async (request, reply) => {
    const vin = vinParam(request, 'remote');
    const body = bodyObject(request, ['action', 'args']);
    const action = stringField(body, 'action', { required: true, pattern: ACTION, hint: 'must be a lower-case action name like door_lock' })!;
    const args = actionArgs(body);
    const vehicle = await store.vehicle(vin);
    if (!vehicle) throw ApiProblem.notFound(`no vehicle ${vin}`);
    const catalog = vehicle.capabilities.filter((c) => c.startsWith('cmd:')).map((c) => c.slice(4));
    if (catalog.length > 0 && !catalog.includes(action)) {
      throw ApiProblem.invalid('/action', 'body', `vehicle ${vin} has no action '${action}' (it has: ${catalog.join(', ')})`);
    }
    if (!context.remote) throw new ApiProblem(503, 'remote control is not configured on this backend (it needs --broker and --key)');
    let record;
    try {
      record = await context.remote.send({ vin, action, args });
    } catch (error) {
      if (error instanceof PublishError) throw new ApiProblem(503, `the command was recorded but not sent: ${error.message}`);
      throw error;
    }
    const resource = remoteActionResource(record, context.now());
    reply.header('location', (resource._links as { self: { href: string } }).self.href);
    return sendHal(reply, 202, resource);
  });

  app.get('/vehicles/:vin/remote', async (request, reply) => {
    const vin = vinParam(request);
    const { page, ...query } = listQuery(request);
    if (!(await store.vehicle(vin))) throw ApiProblem.notFound(`no vehicle ${vin}`);
    const commands = await store.commands(vin, query);
    const now = context.now();
    return sendHal(reply, 200, halPage({ ...commands, items: commands.items.map((c) => remoteActionResource(c, now)) }, 'actions', page, { vehicle: { href: vehiclePath(vin) } }));
  });

  app.get('/vehicles/:vin/remote/:actionId', async (request, reply) => {
    const vin = vinParam(request);
    accessOf(request).require('read');
    const { actionId } = request.params as { actionId: string };
    const command = await store.command(actionId);
    if (!command || command.vin !== vin) throw ApiProblem.notFound(`vehicle ${vin} has no remote action ${actionId}`);
    return sendHal(reply, 200, remoteActionResource(command, context.now()));
  });
}
