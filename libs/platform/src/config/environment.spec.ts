import { describe, expect, it } from '@jest/globals';
import {
  IsPort,
  ServiceEnvironment,
  ConfigurationError,
  environmentValidator,
} from './environment.js';

class ExampleEnvironment extends ServiceEnvironment {
  @IsPort()
  EXAMPLE_HTTP_PORT: number = 3000;
}

const validate = environmentValidator(ExampleEnvironment);

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('environmentValidator', () => {
  it('fills every unset variable with its default', () => {
    const environment = validate({ LOG_FORMAT: 'json' });
    expect(environment).toMatchObject({
      EXAMPLE_HTTP_PORT: 3000,
      RABBITMQ_URL: ['amqp://guest:guest@127.0.0.1:5672'],
      LOG_LEVEL: 'info',
      LOG_FORMAT: 'json',
    });
  });

  it('refuses a prefetch that cannot hold two batches, naming both settings', () => {
    const error = catchError(() =>
      validate({ CONSUMER_BATCH_SIZE: '50', RABBITMQ_PREFETCH: '64' }),
    ) as ConfigurationError;
    expect(error.problems).toEqual([
      'RABBITMQ_PREFETCH must be at least twice CONSUMER_BATCH_SIZE (got "64")',
    ]);
    expect(validate({ CONSUMER_BATCH_SIZE: '50', RABBITMQ_PREFETCH: '100' })).toMatchObject({
      CONSUMER_BATCH_SIZE: 50,
      RABBITMQ_PREFETCH: 100,
    });
  });

  it('sizes the database pool at 10 unless told, and refuses a pool too small to migrate with', () => {
    expect(validate({}).DATABASE_POOL_SIZE).toBe(10);
    expect(validate({ DATABASE_POOL_SIZE: '25' }).DATABASE_POOL_SIZE).toBe(25);
    const error = catchError(() => validate({ DATABASE_POOL_SIZE: '1' })) as ConfigurationError;
    expect(error.problems).toEqual([expect.stringMatching(/^DATABASE_POOL_SIZE .*"1"/)]);
  });

  it('takes the nodes of a RabbitMQ cluster as a comma-separated list, checking each', () => {
    expect(
      validate({ RABBITMQ_URL: 'amqp://a:b@rabbit-1:5672/, amqp://a:b@rabbit-2:5672/' })
        .RABBITMQ_URL,
    ).toEqual(['amqp://a:b@rabbit-1:5672/', 'amqp://a:b@rabbit-2:5672/']);
    const error = catchError(() =>
      validate({ RABBITMQ_URL: 'amqp://a:b@rabbit-1:5672/,http://rabbit-2' }),
    ) as ConfigurationError;
    // Named, never echoed: it carries passwords.
    expect(error.problems).toEqual([
      'RABBITMQ_URL must be a URL of the form amqp://host:port or amqps://host:port',
    ]);
  });

  it('converts numbers given as text', () => {
    expect(validate({ EXAMPLE_HTTP_PORT: '8080' }).EXAMPLE_HTTP_PORT).toBe(8080);
  });

  it('treats an empty variable as unset', () => {
    expect(validate({ EXAMPLE_HTTP_PORT: '' }).EXAMPLE_HTTP_PORT).toBe(3000);
  });

  it('names every malformed variable at once, with the value given', () => {
    const error = catchError(() => validate({ EXAMPLE_HTTP_PORT: '70000', LOG_LEVEL: 'loud' }));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).problems).toEqual([
      'EXAMPLE_HTTP_PORT must be a port number (an integer from 1 to 65535) (got "70000")',
      'LOG_LEVEL must be one of the following values: fatal, error, warn, info, debug, trace, silent (got "loud")',
    ]);
  });

  it('never echoes a URL back, since it may hold a password', () => {
    expect(() => validate({ RABBITMQ_URL: 'http://user:hunter2@broker' })).toThrow(
      /^(?![\s\S]*hunter2)[\s\S]*RABBITMQ_URL must be a URL of the form amqp:\/\/host:port/,
    );
  });
});
