/**
 * service_facts: `ansible_facts.services`, every service on the host as
 * Ansible lists it (src/facts/services.ts). Takes no arguments, as in Ansible.
 * Read-only: its read joins the probe batch and the tasks after it see the
 * facts. When no service is found Ansible sets nothing (the task is skipped
 * there; plumb's is ok).
 */
import { z } from 'zod';
import { services, type Services } from '../facts/services.js';
import { fact } from '../facts/types.js';
import { defineModule, known } from './types.js';

const serviceFactsArgs = z.strictObject({});

export const service_facts = defineModule<Record<string, never>, { services: Services }>({
  name: 'service_facts',
  summary: 'ansible_facts.services: every SysV and systemd service with its state, as Ansible lists them',
  schema: serviceFactsArgs,
  title: () => 'service_facts',
  facts: () => ({ services: fact(services, {}) }),
  plan(_args, facts) {
    known(facts.services);
    return [];
  },
  setsFacts(_args, facts) {
    const found = known(facts.services);
    return Object.keys(found).length > 0 ? { services: found } : {};
  },
});
