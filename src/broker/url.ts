// Masks the password of an AMQP URL so it can be logged.
export function maskUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '<invalid AMQP URL>';
  }
}
