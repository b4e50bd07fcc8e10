import { createHmac } from 'node:crypto';
import type { ProviderType } from '../../shared/api/alerting.ts';
import { objectTitle, type NotificationEvent } from '../alerts/event.ts';
import { commitStatusRequest } from './commit-status.ts';

/** A provider with its Secret's values resolved (never logged). */
export interface ResolvedProvider {
  type: ProviderType;
  address: string;
  channel?: string | undefined;
  username?: string | undefined;
  token?: string | undefined;
  password?: string | undefined;
}

export interface OutgoingRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

const JSON_TYPE = { 'content-type': 'application/json' };

/**
 * The HTTP request a provider gets for an event, in the format each documents (Flux's for
 * generic and generic-hmac, so receivers written for Flux read ours). Undefined when the provider
 * has nothing to say about this event (a commit status needs a revision).
 */
export function providerRequest(provider: ResolvedProvider, event: NotificationEvent): OutgoingRequest | undefined {
  switch (provider.type) {
    case 'generic':
      return { url: provider.address, headers: { ...JSON_TYPE, ...bearer(provider.token) }, body: JSON.stringify(event) };
    case 'generic-hmac':
      return genericHmac(provider, event);
    case 'slack':
      return {
        url: provider.address,
        headers: { ...JSON_TYPE, ...bearer(provider.token) },
        body: JSON.stringify(slackPayload(provider, event)),
      };
    case 'discord':
      // Discord's Slack-compatible endpoint takes the same payload at <webhook>/slack.
      return { url: discordSlackUrl(provider.address), headers: JSON_TYPE, body: JSON.stringify(slackPayload(provider, event)) };
    case 'msteams':
      return { url: provider.address, headers: JSON_TYPE, body: JSON.stringify(teamsPayload(event)) };
    case 'googlechat':
      return { url: provider.address, headers: JSON_TYPE, body: JSON.stringify(googleChatPayload(event)) };
    case 'alertmanager':
      return {
        url: provider.address,
        headers: { ...JSON_TYPE, ...bearer(provider.token) },
        body: JSON.stringify(alertmanagerPayload(event)),
      };
    case 'github':
    case 'gitlab':
    case 'gitea':
    case 'bitbucket':
      return commitStatusRequest(provider, event);
  }
}

function bearer(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Flux's generic-hmac: the generic body, signed with the Secret's token as the HMAC key. */
function genericHmac(provider: ResolvedProvider, event: NotificationEvent): OutgoingRequest {
  if (!provider.token) throw new Error('generic-hmac needs the key in the Secret under "token"');
  const body = JSON.stringify(event);
  const signature = createHmac('sha256', provider.token).update(body).digest('hex');
  return { url: provider.address, headers: { ...JSON_TYPE, 'x-signature': `sha256=${signature}` }, body };
}

/** Metadata as name/value pairs, sorted, for every chat format. */
function facts(event: NotificationEvent): Array<[string, string]> {
  return Object.entries(event.metadata).sort(([a], [b]) => a.localeCompare(b));
}

export function slackPayload(provider: ResolvedProvider, event: NotificationEvent): object {
  return {
    ...(provider.channel ? { channel: provider.channel } : {}),
    ...(provider.username ? { username: provider.username } : {}),
    attachments: [
      {
        color: event.severity === 'error' ? 'danger' : 'good',
        author_name: objectTitle(event),
        text: event.message,
        mrkdwn_in: ['text'],
        fields: facts(event).map(([title, value]) => ({ title, value, short: false })),
      },
    ],
  };
}

function discordSlackUrl(address: string): string {
  const url = new URL(address);
  if (!url.pathname.endsWith('/slack')) url.pathname = `${url.pathname.replace(/\/$/, '')}/slack`;
  return url.toString();
}

/** An Office 365 connector card (Teams' incoming webhook). */
export function teamsPayload(event: NotificationEvent): object {
  return {
    '@type': 'MessageCard',
    '@context': 'https://schema.org/extensions',
    themeColor: event.severity === 'error' ? 'FF0000' : '0076D7',
    summary: objectTitle(event),
    sections: [
      {
        activityTitle: objectTitle(event),
        activitySubtitle: event.reason,
        text: event.message,
        facts: facts(event).map(([name, value]) => ({ name, value })),
      },
    ],
  };
}

/** A Google Chat card message. */
export function googleChatPayload(event: NotificationEvent): object {
  return {
    text: `${objectTitle(event)}: ${event.message}`,
    cards: [
      {
        header: { title: objectTitle(event), subtitle: event.reason },
        sections: [
          {
            widgets: [
              { textParagraph: { text: event.message } },
              ...facts(event).map(([topLabel, content]) => ({ keyValue: { topLabel, content } })),
            ],
          },
        ],
      },
    ],
  };
}

/** Alertmanager's v2 API body: one firing alert per event, labelled so routes can match on it. */
export function alertmanagerPayload(event: NotificationEvent): object {
  const o = event.involvedObject;
  const { summary, ...metadata } = event.metadata;
  return [
    {
      labels: {
        ...metadata,
        alertname: `Tidemark${o.kind}${event.reason}`,
        severity: event.severity,
        reason: event.reason,
        kind: o.kind,
        name: o.name,
        namespace: o.namespace,
      },
      annotations: { message: event.message, ...(summary === undefined ? {} : { summary }) },
      ...(event.timestamp ? { startsAt: event.timestamp } : {}),
    },
  ];
}
