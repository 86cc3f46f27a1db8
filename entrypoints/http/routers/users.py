from __future__ import annotations

from fastapi import APIRouter, status

from application.use_cases.register_user import RegisterUserCommand
from entrypoints.http.dependencies import ContainerDep, CurrentUser
from entrypoints.http.envelope import error_responses
from entrypoints.http.schemas import UserCreate, UserOut

router = APIRouter(prefix="/users", tags=["users"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    summary="Register an account",
    responses=error_responses(403, 409, 422, 503),
)
async def register(body: UserCreate, container: ContainerDep) -> UserOut:
    """Create an ordinary account. The email is stored lower-cased and must be unused
    (409 otherwise); the password is 8 to 128 characters. 403 while registration is closed."""
    user = await container.register_user().execute(
        RegisterUserCommand(email=body.email, password=body.password, full_name=body.full_name)
    )
    return UserOut.of(user)


@router.get(
    "/me",
    response_model=UserOut,
    summary="Read your own account",
    responses=error_responses(401, 503),
)
async def read_me(user: CurrentUser) -> UserOut:
    """The account the bearer token belongs to."""
    return UserOut.of(user)
