import { foreignErrorBody } from './foreign-error-body';

describe('foreignErrorBody: a library’s error answer in the contract’s shape', () => {
  it('turns a Bull Board key into a snake_case code with a readable message', () => {
    expect(foreignErrorBody(404, '{"error":{"key":"ERRORS.QUEUE_NOT_FOUND"}}')).toEqual({
      success: false,
      error: { code: 'queue_not_found', message: 'Queue not found' },
    });
  });

  it('keeps a message the library wrote', () => {
    expect(
      foreignErrorBody(400, '{"error":{"key":"ERRORS.INVALID_QUERY_PARAM"},"message":"bad page"}'),
    ).toEqual({
      success: false,
      error: { code: 'invalid_query_param', message: 'bad page' },
    });
  });

  it('says no more than internal_error with an error_id on a 5xx', () => {
    const body = foreignErrorBody(
      500,
      '{"error":{"key":"ERRORS.INTERNAL_SERVER_ERROR"},"message":"redis at 10.0.0.3 refused"}',
    );
    expect(body).toEqual({
      success: false,
      error: { code: 'internal_error', message: 'Internal server error', error_id: expect.any(String) },
    });
  });

  it('leaves the contract’s own bodies and non-JSON payloads alone', () => {
    expect(
      foreignErrorBody(401, '{"success":false,"error":{"code":"unauthorized","message":"x"}}'),
    ).toBeNull();
    expect(foreignErrorBody(404, '<html>nope</html>')).toBeNull();
  });
});
