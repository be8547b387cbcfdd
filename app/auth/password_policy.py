"""What a new password must be: at least 10 characters and not one of the passwords every
guessing list starts with (compared case-insensitively). Applied wherever a password is set:
user create and PATCH, ``POST /api/v1/me/password`` and ``anjian init``."""

from __future__ import annotations

MIN_LENGTH = 10
MAX_LENGTH = 128

# The most common passwords of 10+ characters in public breach corpora (shorter ones are
# refused by the length rule already), with the usual Chinese-keyboard favourites.
COMMON_PASSWORDS = frozenset(
    p.lower()
    for p in (
        "1234567890",
        "0123456789",
        "0987654321",
        "9876543210",
        "1111111111",
        "0000000000",
        "1234512345",
        "1122334455",
        "1212121212",
        "1357924680",
        "12345678910",
        "123456789a",
        "a123456789",
        "a1234567890",
        "123456789q",
        "q123456789",
        "aa12345678",
        "abc1234567",
        "abcd123456",
        "abcdefghij",
        "abcdefg123",
        "abc123456789",
        "qwertyuiop",
        "qwerty1234",
        "qwerty12345",
        "qwerty123456",
        "1qaz2wsx3edc",
        "1q2w3e4r5t",
        "1q2w3e4r5t6y",
        "q1w2e3r4t5",
        "qazwsxedc123",
        "qazwsxedcrfv",
        "zaq12wsxcde3",
        "zxcvbnm123",
        "zxcvbnm1234",
        "asdfghjkl1",
        "asdfghjkl123",
        "password12",
        "password123",
        "password1234",
        "password!1",
        "password1!",
        "passw0rd123",
        "p@ssw0rd123",
        "p@ssword123",
        "p@ssw0rd1234",
        "passwordpassword",
        "iloveyou12",
        "iloveyou123",
        "woaini1314",
        "woaini520",
        "woaini5201314",
        "5201314520",
        "1314520520",
        "5201314000",
        "5211314521",
        "wo5201314",
        "qq123456789",
        "qq1234567890",
        "admin12345",
        "admin123456",
        "admin@1234",
        "admin@12345",
        "admin@123456",
        "administrator",
        "administrator1",
        "root123456",
        "welcome123",
        "welcome1234",
        "letmein123",
        "sunshine123",
        "football123",
        "baseball123",
        "princess123",
        "michael123",
        "superman123",
        "dragon1234",
        "monkey1234",
        "master1234",
        "changeme123",
        "trustno1234",
        "starwars123",
        "computer123",
        "internet123",
        "qwer123456",
        "asdf123456",
        "zxcv123456",
        "abcd1234abcd",
        "test123456",
        "testtest123",
        "user123456",
        "guest12345",
        "china12345",
        "china123456",
        "beijing123",
        "shanghai123",
        "anjian123456",
        "1234abcd1234",
        "aaaaaaaaaa",
        "a1b2c3d4e5",
        "1a2b3c4d5e",
    )
)


def check_new_password(password: str) -> str:
    """Raises ``ValueError`` ("English|中文", the convention of our validators) when refused."""
    if len(password) < MIN_LENGTH:
        raise ValueError(
            f"The password needs at least {MIN_LENGTH} characters|密码至少需要 {MIN_LENGTH} 个字符"
        )
    if password.lower() in COMMON_PASSWORDS:
        raise ValueError("This password is too common|该密码过于常见，请换一个")
    return password
