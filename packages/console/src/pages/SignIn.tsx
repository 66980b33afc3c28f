/**
 * Sign-in with a password (the OAuth password grant), then — when the account is uninitialized,
 * as the first-start admin is — the forced password change before anything else. The language
 * can be switched before signing in.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation, useNavigate } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import {
  ActionGroup,
  Alert,
  Button,
  Form,
  FormGroup,
  HelperText,
  HelperTextItem,
  LoginPage,
  TextInput,
} from '@patternfly/react-core';
import { session, OAuthError } from '../api/session';
import { changePassword, fetchUser, isUninitialized } from '../api/user';
import { LanguageSwitch, ThemeSwitch } from '../layout/Shell';

function safeReturnPath(from: string | null): string {
  return from && from.startsWith('/') && !from.startsWith('//') && !from.startsWith('/login') ? from : '/';
}

export function PasswordChangeForm({
  username,
  currentPassword,
  onDone,
}: {
  username: string;
  currentPassword?: string;
  onDone(password: string): void | Promise<void>;
}) {
  const { t } = useTranslation();
  const [current, setCurrent] = useState(currentPassword ?? '');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const mismatch = confirm !== '' && confirm !== password;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (password !== confirm) return setError(t('password.mismatch'));
    if (password === current) return setError(t('password.same'));
    setBusy(true);
    setError('');
    try {
      await changePassword(username, current, password);
      await onDone(password);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Form onSubmit={(e) => void submit(e)} aria-label={t('password.title')}>
      {error && <Alert isInline variant="danger" title={error} role="alert" />}
      {currentPassword === undefined && (
        <FormGroup label={t('password.current')} isRequired fieldId="current-password">
          <TextInput
            id="current-password"
            type="password"
            autoComplete="current-password"
            value={current}
            onChange={(_e, v) => setCurrent(v)}
            isRequired
          />
        </FormGroup>
      )}
      <FormGroup label={t('password.new')} isRequired fieldId="new-password">
        <TextInput
          id="new-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(_e, v) => setPassword(v)}
          isRequired
        />
        <HelperText>
          <HelperTextItem>{t('password.policy')}</HelperTextItem>
        </HelperText>
      </FormGroup>
      <FormGroup label={t('password.confirm')} isRequired fieldId="confirm-password">
        <TextInput
          id="confirm-password"
          type="password"
          autoComplete="new-password"
          value={confirm}
          onChange={(_e, v) => setConfirm(v)}
          isRequired
          validated={mismatch ? 'error' : 'default'}
          aria-describedby={mismatch ? 'confirm-help' : undefined}
        />
        {mismatch && (
          <HelperText id="confirm-help">
            <HelperTextItem variant="error">{t('password.mismatch')}</HelperTextItem>
          </HelperText>
        )}
      </FormGroup>
      <ActionGroup>
        <Button type="submit" variant="primary" isLoading={busy} isDisabled={busy || !password || mismatch}>
          {t('password.submit')}
        </Button>
      </ActionGroup>
    </Form>
  );
}

export function SignIn() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const location = useLocation();
  const client = useQueryClient();
  const params = new URLSearchParams(location.search);
  const returnTo = safeReturnPath(params.get('from'));
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState(params.get('expired') ? t('signIn.expired') : '');
  const [busy, setBusy] = useState(false);
  // Set while the account must change its password: who, and the password just used.
  const [mustChange, setMustChange] = useState<{ username: string; password?: string }>();
  const current = session.current();

  const proceed = async (name: string) => {
    const user = await fetchUser(name);
    client.setQueryData(['user', name], user);
    if (isUninitialized(user)) setMustChange({ username: name, password: password || undefined });
    else navigate(returnTo, { replace: true });
  };

  // Already signed in (or reloaded in the middle of the forced change): go on from where the session is.
  useEffect(() => {
    if (current) void proceed(current.username).catch(() => undefined);
    // Once, on arrival.
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const signed = await session.signIn(username.trim(), password);
      await proceed(signed.username);
    } catch (err) {
      setError(
        err instanceof OAuthError
          ? err.code === 'invalid_grant'
            ? err.message || t('signIn.invalid')
            : err.message
          : (err as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };

  const header = (
    <div className="canopy-login-tools">
      <LanguageSwitch />
      <ThemeSwitch />
    </div>
  );

  if (mustChange)
    return (
      <LoginPage
        loginTitle={t('password.forcedTitle')}
        loginSubtitle={t('password.forcedSubtitle')}
        brandImgSrc={undefined}
        textContent={t('signIn.about')}
        footerListItems={header}
      >
        <PasswordChangeForm
          username={mustChange.username}
          currentPassword={mustChange.password}
          onDone={async (newPassword) => {
            // A fresh session with the new password: the old token still says "uninitialized".
            const signed = await session.signIn(mustChange.username, newPassword);
            // The pages must see the initialized user before they render, or they send us back here.
            client.setQueryData(['user', signed.username], await fetchUser(signed.username));
            setMustChange(undefined);
            navigate(returnTo, { replace: true });
          }}
        />
      </LoginPage>
    );

  return (
    <LoginPage
      loginTitle={t('signIn.title')}
      loginSubtitle={t('signIn.subtitle')}
      textContent={t('signIn.about')}
      footerListItems={header}
    >
      <Form onSubmit={(e) => void submit(e)} aria-label={t('signIn.title')}>
        {error && <Alert isInline variant="danger" title={error} role="alert" data-testid="sign-in-error" />}
        <FormGroup label={t('signIn.username')} isRequired fieldId="username">
          <TextInput
            id="username"
            name="username"
            autoComplete="username"
            value={username}
            onChange={(_e, v) => setUsername(v)}
            isRequired
            autoFocus
          />
        </FormGroup>
        <FormGroup label={t('signIn.password')} isRequired fieldId="password">
          <TextInput
            id="password"
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(_e, v) => setPassword(v)}
            isRequired
          />
        </FormGroup>
        <ActionGroup>
          <Button type="submit" variant="primary" isBlock isLoading={busy} isDisabled={busy || !username || !password}>
            {t('signIn.submit')}
          </Button>
        </ActionGroup>
      </Form>
    </LoginPage>
  );
}
