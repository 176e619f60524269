/**
 * Sending a tape (DESIGN.md §11): nodemailer to SMTP_URL, or, without one, an .eml file in the
 * mail-drop directory (MAIL_DROP_DIR), whose path the run records and the log shows. A refused or
 * unreachable server throws: the caller marks the run failed and retryable.
 */
import { createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import nodemailer from "nodemailer";

export interface TapeMail {
  to: string[];
  subject: string;
  text: string;
  filename: string;
  contentType: string;
  content: Readable;
}

export interface MailSettings {
  smtpUrl: string;
  mailDropDir: string;
  from: string;
}

export interface MailReceipt {
  transport: "smtp" | "mail_drop";
  message_id: string;
  /** The .eml file, for the mail drop. */
  path?: string;
  accepted?: string[];
}

export async function sendTapeMail(settings: MailSettings, mail: TapeMail, dropName: string): Promise<MailReceipt> {
  const message = {
    from: settings.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    attachments: [{ filename: mail.filename, contentType: mail.contentType, content: mail.content }],
  };
  if (settings.smtpUrl) {
    const transport = nodemailer.createTransport(settings.smtpUrl, { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 60_000 } as any);
    try {
      const info = await transport.sendMail(message);
      return { transport: "smtp", message_id: info.messageId, accepted: (info.accepted ?? []).map(String) };
    } finally {
      transport.close();
    }
  }
  // Streamed into the file: a 100,000-loan tape is a 40 MB message once base64-encoded.
  const transport = nodemailer.createTransport({ streamTransport: true, newline: "windows" });
  await mkdir(settings.mailDropDir, { recursive: true });
  const file = path.join(settings.mailDropDir, `${dropName}.eml`);
  const info = await transport.sendMail(message);
  await pipeline(info.message as Readable, createWriteStream(file));
  return { transport: "mail_drop", message_id: info.messageId, path: file };
}
